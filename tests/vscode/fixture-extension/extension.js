// The 'clawfix' language, for claw-lsp's VS Code tests (issue 16). `def NAME` defines NAME;
// every other whole-word NAME uses it. A line with more "(" than ")" is an error (code CF1),
// recomputed on every change (the collection is set even when empty, like a real server).
const vscode = require("vscode");

const wordAt = (document, position) => {
  const range = document.getWordRangeAtPosition(position, /[A-Za-z_][A-Za-z0-9_]*/);
  return range ? document.getText(range) : undefined;
};

async function eachLine(visit) {
  for (const uri of await vscode.workspace.findFiles("**/*.cfx")) {
    const document = await vscode.workspace.openTextDocument(uri);
    for (let line = 0; line < document.lineCount; line++) visit(uri, line, document.lineAt(line).text);
  }
}

function activate(context) {
  const collection = vscode.languages.createDiagnosticCollection("clawfix");
  const check = (document) => {
    if (document.languageId !== "clawfix") return;
    const found = [];
    for (let line = 0; line < document.lineCount; line++) {
      const text = document.lineAt(line).text;
      const opened = (text.match(/\(/g) || []).length;
      const closed = (text.match(/\)/g) || []).length;
      if (opened > closed) {
        const start = text.lastIndexOf("(");
        const diagnostic = new vscode.Diagnostic(
          new vscode.Range(line, start, line, text.length),
          "unclosed parenthesis",
          vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = "clawfix";
        diagnostic.code = "CF1";
        found.push(diagnostic);
      }
    }
    collection.set(document.uri, found);
  };
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((change) => check(change.document)),
    vscode.languages.registerDefinitionProvider("clawfix", {
      async provideDefinition(document, position) {
        const name = wordAt(document, position);
        const out = [];
        if (!name) return out;
        await eachLine((uri, line, text) => {
          const at = text.indexOf(`def ${name}`);
          if (at >= 0) out.push(new vscode.Location(uri, new vscode.Position(line, at + 4)));
        });
        return out;
      },
    }),
    vscode.languages.registerReferenceProvider("clawfix", {
      async provideReferences(document, position) {
        const name = wordAt(document, position);
        const out = [];
        if (!name) return out;
        const pattern = new RegExp(`\\b${name}\\b`, "g");
        await eachLine((uri, line, text) => {
          for (const match of text.matchAll(pattern)) {
            out.push(new vscode.Location(uri, new vscode.Range(line, match.index, line, match.index + name.length)));
          }
        });
        return out;
      },
    }),
  );
  vscode.workspace.textDocuments.forEach(check);
}

module.exports = { activate, deactivate() {} };
