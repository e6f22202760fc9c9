// claw's language tools through VS Code's own language servers (claw-lsp issue 16).
//
// The server asks `claw/lsp {method, params}` (definition, references, hover, rename,
// workspace/symbol, textDocument/diagnostic); we answer with VS Code's provider commands
// (vscode.executeDefinitionProvider, ...) and languages.getDiagnostics, as
// [{server: "vscode", result} | {server: "vscode", error}]. Every change of the diagnostics is
// pushed to the server (`claw/diagnostics {uri, version, diagnostics, source, sources}`) so each
// agent edit reports the errors it introduced or fixed. Positions are UTF-16 on both sides.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

const SERVER = "vscode";

interface LspPosition {
  line: number;
  character: number;
}
interface LspRange {
  start: LspPosition;
  end: LspPosition;
}
interface LspRequest {
  method?: unknown;
  params?: {
    textDocument?: { uri?: string };
    position?: LspPosition;
    query?: string;
    newName?: string;
  };
}
type Answer = { server: string; result: unknown } | { server: string; error: string };

const asRange = (range: vscode.Range): LspRange => ({
  start: { line: range.start.line, character: range.start.character },
  end: { line: range.end.line, character: range.end.character },
});

function asLocation(item: vscode.Location | vscode.LocationLink): unknown {
  if ("targetUri" in item) {
    return {
      targetUri: item.targetUri.toString(),
      targetRange: asRange(item.targetRange),
      targetSelectionRange: asRange(item.targetSelectionRange ?? item.targetRange),
    };
  }
  return { uri: item.uri.toString(), range: asRange(item.range) };
}

function asDiagnostic(diagnostic: vscode.Diagnostic): unknown {
  const code = typeof diagnostic.code === "object" ? diagnostic.code.value : diagnostic.code;
  return {
    range: asRange(diagnostic.range),
    severity: diagnostic.severity + 1, // vscode counts from 0 (Error), LSP from 1
    message: diagnostic.message,
    source: diagnostic.source,
    code,
  };
}

/** Diagnostics of a document from every provider but claw's own (its proposal hints). */
function editorDiagnostics(uri: vscode.Uri): unknown[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((diagnostic) => diagnostic.source !== "claw")
    .map(asDiagnostic);
}

function hoverText(hovers: vscode.Hover[]): string {
  const parts: string[] = [];
  for (const hover of hovers) {
    for (const content of hover.contents) {
      if (typeof content === "string") parts.push(content);
      else if (content instanceof vscode.MarkdownString) parts.push(content.value);
      else parts.push("```" + content.language + "\n" + content.value + "\n```");
    }
  }
  return parts.join("\n\n");
}

function renameEdit(edit: vscode.WorkspaceEdit | undefined): unknown {
  if (!edit) return null;
  const changes: Record<string, unknown[]> = {};
  for (const [uri, edits] of edit.entries()) {
    changes[uri.toString()] = edits.map((textEdit) => ({ range: asRange(textEdit.range), newText: textEdit.newText }));
  }
  return { changes };
}

async function answer(request: LspRequest): Promise<unknown> {
  const method = typeof request?.method === "string" ? request.method : "";
  const params = request?.params ?? {};
  const run = <T>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
  if (method === "workspace/symbol") {
    const symbols = (await run<vscode.SymbolInformation[]>("vscode.executeWorkspaceSymbolProvider", params.query ?? "")) ?? [];
    return symbols.map((symbol) => ({
      name: symbol.name,
      kind: symbol.kind + 1,
      containerName: symbol.containerName,
      location: { uri: symbol.location.uri.toString(), range: asRange(symbol.location.range) },
    }));
  }
  if (!params.textDocument?.uri) throw new Error(`${method} needs a textDocument`);
  const uri = vscode.Uri.parse(params.textDocument.uri);
  // Providers (and language servers) work on open documents: open it in the background.
  const document = await vscode.workspace.openTextDocument(uri);
  if (method === "textDocument/diagnostic") {
    return { kind: "full", items: editorDiagnostics(uri), version: document.version };
  }
  const at = new vscode.Position(params.position?.line ?? 0, params.position?.character ?? 0);
  switch (method) {
    case "textDocument/definition": {
      const found = (await run<(vscode.Location | vscode.LocationLink)[]>("vscode.executeDefinitionProvider", uri, at)) ?? [];
      return found.map(asLocation);
    }
    case "textDocument/references": {
      const found = (await run<vscode.Location[]>("vscode.executeReferenceProvider", uri, at)) ?? [];
      return found.map(asLocation);
    }
    case "textDocument/hover": {
      const text = hoverText((await run<vscode.Hover[]>("vscode.executeHoverProvider", uri, at)) ?? []);
      return text ? { contents: { kind: "markdown", value: text } } : null;
    }
    case "textDocument/rename":
      return renameEdit(await run<vscode.WorkspaceEdit>("vscode.executeDocumentRenameProvider", uri, at, params.newName ?? ""));
    default:
      throw new Error(`claw/lsp: ${method || "(no method)"} is not supported by this editor`);
  }
}

/** Wires `claw/lsp` and the diagnostics push onto the claw language client. */
export function registerLspBridge(client: LanguageClient): vscode.Disposable[] {
  const push = (uri: vscode.Uri): void => {
    if (uri.scheme !== "file") return;
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
    void client.sendNotification("claw/diagnostics", {
      uri: uri.toString(),
      version: document?.version ?? null,
      diagnostics: editorDiagnostics(uri),
      source: SERVER,
      sources: [SERVER],
    });
  };
  return [
    client.onRequest("claw/lsp", async (request: LspRequest): Promise<Answer[]> => {
      try {
        return [{ server: SERVER, result: (await answer(request)) ?? null }];
      } catch (error) {
        return [{ server: SERVER, error: error instanceof Error ? error.message : String(error) }];
      }
    }),
    vscode.languages.onDidChangeDiagnostics((change) => {
      if (client.isRunning()) for (const uri of change.uris) push(uri);
    }),
  ];
}
