// What the conversation view's input and buttons do: sending, completion, toolbar switches,
// code-block Copy / Insert at cursor, Undo turn and plan actions. The view (view.ts) only
// forwards the webview's messages here.
import * as vscode from "vscode";
import type { ClawClient } from "./client";
import { activeFolderUri, type ClawCommands } from "./commands";
import { type CommandInfo, type CompletionItem, filterCommands, mentionItems } from "./pure/composer";
import type { Conversation } from "./pure/conversation";
import type { ViewActions } from "./view";

const MENTION_LIMIT = 30;
const COMMANDS_CACHE_MS = 30_000;

export class ChatPane {
  private commandsCache: { folder: string; at: number; commands: CommandInfo[] } | undefined;
  /** The editor the user typed in last: the target of "Insert at cursor" while the view has focus. */
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;

  constructor(
    private readonly client: () => ClawClient,
    private readonly commands: () => ClawCommands | undefined,
    private readonly conversation: Conversation,
    private readonly refresh: () => void,
    private readonly onModelsWanted: () => void,
  ) {}

  trackEditor(editor: vscode.TextEditor | undefined): void {
    if (editor && ["file", "untitled"].includes(editor.document.uri.scheme)) this.lastEditor = editor;
  }

  actions(base: Pick<ViewActions, "acceptProposal" | "rejectProposal" | "openProposalDiff" | "openEditDiff" | "openFile">): ViewActions {
    return {
      ...base,
      send: (prompt, options) => void this.commands()?.ask(prompt, undefined, options),
      complete: (trigger, query) => (trigger === "/" ? this.completeCommand(query) : this.completeMention(query)),
      run: (action) => void this.run(action),
      setTier: (tier) => void this.guard(() => this.commands()?.setTierTo(tier)),
      setModel: (model) => void this.commands()?.ask(`/model ${model}`),
      undoTurn: (session, turn) => void this.guard(() => this.commands()?.undoTurn({ session, turn })),
      copy: (text) => void vscode.env.clipboard.writeText(text),
      insertAtCursor: (text) => void this.guard(() => this.insert(text)),
      acceptPlan: (session, plan) => void this.acceptPlan(session, plan),
      keepPlanning: () => {
        this.conversation.settlePlans("superseded");
        this.refresh();
      },
    };
  }

  private async run(action: "stop" | "newSession" | "sessions" | "compact" | "busyNotice" | "listModels"): Promise<void> {
    switch (action) {
      case "stop":
        await this.guard(() => this.commands()?.cancel());
        break;
      case "newSession":
        await vscode.commands.executeCommand("claw.ui.newSession");
        break;
      case "sessions":
        await vscode.commands.executeCommand("claw.ui.sessions");
        break;
      case "compact":
        await this.commands()?.ask("/compact");
        break;
      case "busyNotice":
        void vscode.window.showInformationMessage("Claw is still working on the last request: Stop it first (Esc in the input).");
        break;
      case "listModels":
        this.onModelsWanted();
        break;
    }
  }

  /** Claw: Pick Slash Command: every command of the folder in a quick pick; the pick starts the input. */
  async pickCommand(focusInput: (text: string) => Promise<void>): Promise<void> {
    const items = await this.completeCommand("", 1000);
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ label: item.label, description: item.detail, insert: item.insert })),
      { title: "Claw: Slash Commands", placeHolder: "Built-in, your .claude/commands, skills and MCP prompts", matchOnDescription: true },
    );
    if (picked) await focusInput(`${picked.insert} `);
  }

  private async acceptPlan(session: string, plan: string): Promise<void> {
    this.conversation.settlePlans("accepted");
    const folder = activeFolderUri();
    const argument: Record<string, unknown> = { plan };
    if (session) argument.session = session;
    if (folder) argument.folder = folder;
    await this.commands()?.runTurn("claw.acceptPlan", argument, "Accepted the plan.");
  }

  private async completeCommand(query: string, limit?: number): Promise<CompletionItem[]> {
    const folder = activeFolderUri() ?? "";
    const cached = this.commandsCache;
    if (!cached || cached.folder !== folder || Date.now() - cached.at > COMMANDS_CACHE_MS) {
      const commands = await this.client().execute<CommandInfo[]>("claw.commands", folder ? { folder } : {});
      this.commandsCache = { folder, at: Date.now(), commands: Array.isArray(commands) ? commands : [] };
    }
    return filterCommands(this.commandsCache?.commands ?? [], query, limit);
  }

  private async completeMention(query: string): Promise<CompletionItem[]> {
    const folder = activeFolderUri();
    const argument: Record<string, unknown> = { prefix: query, limit: MENTION_LIMIT };
    if (folder) argument.folder = folder;
    return mentionItems(await this.client().execute<unknown>("claw.completeMentions", argument));
  }

  private async insert(text: string): Promise<void> {
    const editor = this.lastEditor;
    if (!editor || editor.document.isClosed) {
      void vscode.window.showInformationMessage("Claw: open a file to insert the code into.");
      return;
    }
    const shown = await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
    await shown.edit((builder) => {
      for (const selection of shown.selections) builder.replace(selection, text);
    });
  }

  private async guard(action: () => Promise<unknown> | undefined): Promise<void> {
    try {
      await action();
    } catch (error) {
      const message = error && typeof error === "object" && "message" in error ? String(error.message) : String(error);
      void vscode.window.showErrorMessage(`Claw: ${message}`);
    }
  }
}
