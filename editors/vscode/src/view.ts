// The "Claw" conversation view: a webview view in its own activity-bar container. It re-renders
// from the pure view model (pure/render.ts) and turns button clicks into extension commands.
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import type { Conversation } from "./pure/conversation";
import { renderConversation } from "./pure/render";

export const CONVERSATION_VIEW_ID = "claw.conversation";
const RENDER_DELAY_MS = 40;

export interface ViewActions {
  acceptProposal(proposal: string): void;
  rejectProposal(proposal: string): void;
  openProposalDiff(proposal: string): void;
  openEditDiff(key: string, uri: string): void;
  openFile(uri: string): void;
}

interface ViewMessage {
  action?: unknown;
  proposal?: unknown;
  uri?: unknown;
  key?: unknown;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

export class ConversationView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private renderTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly conversation: Conversation,
    private readonly actions: ViewActions,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [media] };
    view.webview.html = this.shellHtml(view.webview, media);
    view.webview.onDidReceiveMessage((message: ViewMessage) => this.handleMessage(message));
    view.onDidChangeVisibility(() => this.refresh());
    view.onDidDispose(() => {
      this.view = undefined;
    });
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

  /** Coalesces the many text deltas of a stream into one render per frame or so. */
  refresh(): void {
    if (this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.postRender();
    }, RENDER_DELAY_MS);
  }

  private postRender(): void {
    if (!this.view) return;
    const folderUris = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.toString());
    void this.view.webview.postMessage({ type: "render", html: renderConversation(this.conversation.view, { folderUris }) });
  }

  private handleMessage(message: ViewMessage): void {
    const proposal = text(message.proposal);
    switch (text(message.action)) {
      case "ready":
        this.postRender();
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

  private shellHtml(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = crypto.randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, "view.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, "view.css"));
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
<body><main id="conversation" aria-live="polite"></main>
<script nonce="${nonce}" src="${script}"></script></body></html>`;
  }
}
