// The "Claw" conversation view: a webview view in its own activity-bar container with the
// transcript (re-rendered from the pure view model, pure/render.ts), the chat input and the
// toolbar (src/webview/main.ts). Messages from the webview become extension actions.
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import type { Chip, CompletionItem } from "./pure/composer";
import type { Conversation } from "./pure/conversation";
import { renderConversation } from "./pure/render";
import type { ToolbarState } from "./pure/toolbar";

export const CONVERSATION_VIEW_ID = "claw.conversation";
const RENDER_DELAY_MS = 40;

export interface ViewActions {
  acceptProposal(proposal: string): void;
  rejectProposal(proposal: string): void;
  openProposalDiff(proposal: string): void;
  openEditDiff(key: string, uri: string): void;
  openFile(uri: string): void;
  send(prompt: string, options: { selection?: { uri: string; range: unknown }; mode?: string }): void;
  complete(trigger: "/" | "@", query: string): Promise<CompletionItem[]>;
  run(action: "stop" | "newSession" | "sessions" | "compact" | "busyNotice" | "listModels"): void;
  setTier(tier: string): void;
  setModel(model: string): void;
  undoTurn(session: string, turn: number | undefined): void;
  copy(text: string): void;
  insertAtCursor(text: string): void;
  acceptPlan(session: string, plan: string): void;
  keepPlanning(): void;
}

type ViewMessage = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === "string" ? value : "");

export class ConversationView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private renderTimer: NodeJS.Timeout | undefined;
  private toolbar: ToolbarState | undefined;
  /** Messages for a webview that is not there yet (a chip from Ask before the view opened). */
  private pending: unknown[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly conversation: Conversation,
    private readonly actions: ViewActions,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const roots = [vscode.Uri.joinPath(this.extensionUri, "media"), vscode.Uri.joinPath(this.extensionUri, "dist")];
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: roots };
    view.webview.html = this.shellHtml(view.webview);
    view.webview.onDidReceiveMessage((message: ViewMessage) => void this.handleMessage(message));
    view.onDidChangeVisibility(() => this.refresh());
    view.onDidDispose(() => {
      this.view = undefined;
    });
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  /** Shows the view without taking focus from the editor the user is typing in. */
  async reveal(): Promise<void> {
    if (this.view) {
      this.view.show(true);
      return;
    }
    const editor = vscode.window.activeTextEditor;
    await vscode.commands.executeCommand(`${CONVERSATION_VIEW_ID}.focus`);
    if (editor) await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
  }

  /** Opens the view with the input focused; `chip` (the editor's selection) is attached first. */
  async focusInput(chip?: Chip, text?: string): Promise<void> {
    if (chip) this.post({ type: "addChip", chip });
    this.post({ type: "focusInput", ...(text !== undefined ? { text } : {}) });
    await vscode.commands.executeCommand(`${CONVERSATION_VIEW_ID}.focus`);
  }

  /** Coalesces the many text deltas of a stream into one render per frame or so. */
  refresh(): void {
    if (this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.postRender();
    }, RENDER_DELAY_MS);
  }

  updateToolbar(state: ToolbarState): void {
    this.toolbar = state;
    if (this.view) void this.view.webview.postMessage({ type: "toolbar", state });
  }

  private post(message: unknown): void {
    if (this.view) void this.view.webview.postMessage(message);
    else this.pending.push(message);
  }

  private postRender(): void {
    if (!this.view) return;
    const folderUris = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.toString());
    void this.view.webview.postMessage({ type: "render", html: renderConversation(this.conversation.view, { folderUris }) });
  }

  private async handleMessage(message: ViewMessage): Promise<void> {
    const proposal = text(message.proposal);
    switch (text(message.action)) {
      case "ready":
        this.postRender();
        if (this.toolbar) void this.view?.webview.postMessage({ type: "toolbar", state: this.toolbar });
        for (const queued of this.pending.splice(0)) void this.view?.webview.postMessage(queued);
        break;
      case "send": {
        const selection = message.selection as { uri?: unknown; range?: unknown } | undefined;
        const validSelection = selection && typeof selection.uri === "string" ? { uri: selection.uri, range: selection.range } : undefined;
        if (text(message.prompt).trim()) this.actions.send(text(message.prompt), { selection: validSelection, mode: text(message.mode) });
        break;
      }
      case "complete": {
        const trigger = message.trigger === "/" ? "/" : "@";
        let items: CompletionItem[] = [];
        try {
          items = await this.actions.complete(trigger, text(message.query));
        } catch {
          // An older server without completion, or a restart: no list this time.
        }
        void this.view?.webview.postMessage({ type: "completions", requestId: message.requestId, items });
        break;
      }
      case "stop":
      case "newSession":
      case "sessions":
      case "compact":
      case "busyNotice":
      case "listModels":
        this.actions.run(text(message.action) as "stop");
        break;
      case "setTier":
        if (text(message.tier)) this.actions.setTier(text(message.tier));
        break;
      case "setModel":
        if (text(message.model)) this.actions.setModel(text(message.model));
        break;
      case "undoTurn":
        if (text(message.session)) this.actions.undoTurn(text(message.session), Number(message.turn) || undefined);
        break;
      case "copyCode":
        this.actions.copy(text(message.code));
        break;
      case "insertCode":
        this.actions.insertAtCursor(text(message.code));
        break;
      case "acceptPlan":
        this.actions.acceptPlan(text(message.session), text(message.plan));
        break;
      case "keepPlanning":
        this.actions.keepPlanning();
        break;
      case "acceptProposal":
        if (proposal) this.actions.acceptProposal(proposal);
        break;
      case "rejectProposal":
        if (proposal) this.actions.rejectProposal(proposal);
        break;
      case "openProposalDiff":
        if (proposal) this.actions.openProposalDiff(proposal);
        break;
      case "openEditDiff":
        if (text(message.key) && text(message.uri)) this.actions.openEditDiff(text(message.key), text(message.uri));
        break;
      case "openFile":
        if (text(message.uri)) this.actions.openFile(text(message.uri));
        break;
      default:
        break;
    }
  }

  private shellHtml(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "dist", "webview.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "view.css"));
    // No remote loads of any kind: model text cannot make the view fetch a URL (SECURITY.md PI-08).
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join("; ");
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}"><title>Claw</title></head>
<body>
<main id="conversation" aria-live="polite" aria-label="Conversation"></main>
<div id="composer" role="form" aria-label="Ask Claw">
  <div id="toolbar" role="toolbar" aria-label="Claw controls">
    <select id="mode" aria-label="Mode" title="Ask: the agent works; Plan: it only plans, for you to accept">
      <option value="ask">Ask</option><option value="plan">Plan</option>
    </select>
    <select id="tier" aria-label="Permission tier" title="What the agent may do without asking"></select>
    <select id="model" aria-label="Model" title="Model (switches with /model)"></select>
    <span id="context-meter" class="context-meter" role="status" hidden></span>
    <span class="spacer"></span>
    <button type="button" id="stop" class="secondary" aria-label="Stop the running turn" hidden>Stop</button>
    <button type="button" id="new-session" class="secondary" aria-label="New session">New</button>
    <button type="button" id="sessions" class="secondary" aria-label="Sessions">Sessions</button>
  </div>
  <div id="chips" role="list" aria-label="Attachments" hidden></div>
  <div id="completions" role="listbox" aria-label="Completions" hidden></div>
  <div class="input-row">
    <textarea id="prompt" rows="2" aria-label="Message to Claw" aria-autocomplete="list" aria-controls="completions" aria-expanded="false"></textarea>
    <button type="button" id="send" class="primary" aria-label="Send">Send</button>
  </div>
</div>
<script nonce="${nonce}" src="${script}"></script></body></html>`;
  }
}
