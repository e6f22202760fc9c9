// Owns the language client: finds and starts `claw-lsp`, feeds it settings, routes its
// notifications, implements `claw/saveDocuments`, and snapshots documents before agent edits
// so the view can offer "Open diff".
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CancellationToken,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  type WorkspaceEdit,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import type { ClawEvent } from "./pure/conversation";
import { buildServerSettings, resolveServerCommand } from "./pure/settings";
import { registerLspBridge } from "./lspBridge";
import type { EditSnapshots } from "./proposals";

export const API_KEY_SECRET = "claw.apiKey";

export interface ClawStatus {
  folder?: string;
  tier?: string;
  busy?: boolean;
  session?: string;
  /** Tokens of the last request and the model's window (servers that send them). */
  contextTokens?: number;
  contextWindow?: number;
  compactThreshold?: number;
  backend?: { model?: string };
}

export interface ClawClientListener {
  onEvent(event: ClawEvent): void;
  onStatus(status: ClawStatus): void;
  onRunningChanged(running: boolean): void;
  /** A server command ran through VS Code (e.g. a code action's "Claw: Accept proposal"). */
  onCommandExecuted(command: string, argument: unknown, result: unknown): void;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function currentServerSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("claw");
  return buildServerSettings((key) => config.inspect(key), vscode.workspace.isTrusted);
}

export class ClawClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The edit in flight is labelled by the last event's session/turn (events precede their edits). */
  private lastTurnKey: { session?: string; turn?: number } = {};
  /** Non-zero while the user's own Accept (after reviewing our diff) is being applied. */
  private userConfirmedEdits = 0;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly output: vscode.LogOutputChannel,
    private readonly snapshots: EditSnapshots,
    private readonly listener: ClawClientListener,
  ) {}

  get isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration("claw");
    // Read only the user's value: a workspace must not choose which program we execute.
    const resolution = resolveServerCommand(
      config.inspect<string>("server.path")?.globalValue,
      config.inspect<string>("server.pythonPath")?.globalValue,
      { pathVariable: process.env.PATH ?? "", pathSeparator: path.delimiter, isExecutable },
    );
    if (!resolution.ok) {
      this.output.appendLine(resolution.message);
      void vscode.window.showErrorMessage(resolution.message, "Open Settings", "Show Output").then((choice) => {
        if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "claw.server");
        if (choice === "Show Output") this.output.show(true);
      });
      return false;
    }

    const env: NodeJS.ProcessEnv = { ...process.env };
    if (!env.CLAW_API_KEY && !env.OPENAI_API_KEY) {
      const stored = await this.secrets.get(API_KEY_SECRET);
      if (stored) env.CLAW_API_KEY = stored;
    }
    const serverOptions: ServerOptions = {
      command: resolution.server.command,
      args: resolution.server.args,
      transport: TransportKind.stdio,
      options: { env },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.output,
      initializationOptions: { ...currentServerSettings(), clientCapabilities: { saveDocuments: true, lsp: true } },
      middleware: {
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          this.listener.onCommandExecuted(command, args[0], result);
          return result;
        },
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, index) => {
              if (item.section === "claw") return currentServerSettings();
              if (item.section?.startsWith("claw.")) return currentServerSettings()[item.section.slice(5)] ?? null;
              return answers[index];
            });
          },
          handleApplyEdit: async (params, next) => {
            await this.snapshots.captureBefore(params.edit, this.lastTurnKey.session, this.lastTurnKey.turn);
            // The server marks accepted proposals "needs confirmation", which VS Code shows in
            // Refactor Preview. After an Accept in our own diff review that would ask twice; from
            // any other path (the lightbulb's "Claw: Accept proposal") the preview stays.
            const edit = this.userConfirmedEdits > 0 ? withoutConfirmation(params.edit) : params.edit;
            return next({ ...params, edit }, CancellationToken.None);
          },
        },
      },
    };
    const client = new LanguageClient("claw", "Claw", serverOptions, clientOptions);
    this.client = client;
    this.disposables.push(
      client.onNotification("claw/event", (event: ClawEvent) => {
        this.lastTurnKey = { session: event?.session, turn: event?.turn };
        this.listener.onEvent(event);
      }),
      client.onNotification("claw/status", (status: ClawStatus) => this.listener.onStatus(status)),
      client.onRequest("claw/saveDocuments", (params: { uris?: unknown }) => saveDocuments(params)),
      ...registerLspBridge(client),
      client.onDidChangeState((change) => this.listener.onRunningChanged(change.newState === State.Running)),
    );
    try {
      await client.start();
    } catch (error) {
      const message = `Claw: the language server failed to start (${resolution.server.command}). See the Claw output for details.`;
      this.output.appendLine(`${message} ${error instanceof Error ? error.message : String(error)}`);
      void vscode.window.showErrorMessage(message, "Show Output").then((choice) => {
        if (choice) this.output.show(true);
      });
      return false;
    }
    return true;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    if (client && client.state !== State.Stopped) await client.stop().catch(() => undefined);
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  /** Pushes the current settings after the user changed them. */
  notifyConfigurationChanged(): void {
    if (!this.isRunning || !this.client) return;
    void this.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { claw: currentServerSettings() },
    });
  }

  async execute<T>(command: string, argument: object, token?: vscode.CancellationToken): Promise<T> {
    if (!this.client || !this.isRunning) {
      throw new Error("The Claw language server is not running. Run \"Claw: Restart Server\" or check the Claw output.");
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] }, token) as Promise<T>;
  }

  /** Runs a server command whose edits the user has already reviewed and confirmed. */
  async executeConfirmed<T>(command: string, argument: object): Promise<T> {
    this.userConfirmedEdits++;
    try {
      return await this.execute<T>(command, argument);
    } finally {
      this.userConfirmedEdits--;
    }
  }

  toProtocolRange(range: vscode.Range): unknown {
    return this.client?.code2ProtocolConverter.asRange(range);
  }

  dispose(): void {
    void this.stop();
  }
}

function withoutConfirmation(edit: WorkspaceEdit): WorkspaceEdit {
  if (!edit.changeAnnotations) return edit;
  const changeAnnotations = Object.fromEntries(
    Object.entries(edit.changeAnnotations).map(([id, annotation]) => [id, { ...annotation, needsConfirmation: false }]),
  );
  return { ...edit, changeAnnotations };
}

/** `claw/saveDocuments`: save the open, dirty documents the server names; report which are saved. */
async function saveDocuments(params: { uris?: unknown }): Promise<{ saved: string[] }> {
  const requested = Array.isArray(params?.uris) ? params.uris.filter((u): u is string => typeof u === "string") : [];
  const saved: string[] = [];
  for (const uri of requested) {
    const target = vscode.Uri.parse(uri);
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === target.toString());
    if (!document) {
      // Not open: the disk already holds the only copy.
      if (target.scheme === "file") saved.push(uri);
      continue;
    }
    // Saving an untitled document would open a file dialog in the middle of a turn.
    if (document.isUntitled) continue;
    if (document.isDirty && !(await document.save())) continue;
    if (!document.isDirty) saved.push(uri);
  }
  return { saved };
}
