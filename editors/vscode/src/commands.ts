// The palette commands. Each talks to the server through `workspace/executeCommand`.
import * as vscode from "vscode";
import type { ClawClient } from "./client";
import { API_KEY_SECRET } from "./client";
import type { AskResult, Conversation, TurnView } from "./pure/conversation";
import { pickMcpPrompt, showMcpServers } from "./mcp";
import { TIERS } from "./pure/settings";
import { ProposalDocuments } from "./proposals";
import { pickSession } from "./sessions";
import type { ConversationView } from "./view";

const CANCEL_GRACE_MS = 5000;

const TIER_DESCRIPTIONS: Record<string, string> = {
  "read-only": "Reads and searches files. Anything more asks you first, or is refused.",
  write: "Also edits files in this workspace, through the editor so you can undo. Protected files still ask.",
  shell: "Also runs shell commands (in a sandbox where available). Risky commands still ask.",
  unsafe: "Does everything without asking, protected files included. Only for throwaway workspaces.",
};

interface RunningAsk {
  cancellation: vscode.CancellationTokenSource;
  localTurn: TurnView;
}

function errorText(error: unknown): string {
  // Only the message: never a stack trace in the UI.
  if (error && typeof error === "object" && "message" in error && typeof error.message === "string") return error.message;
  return String(error);
}

/** Closes the diff editors that show a decided proposal: their right side no longer means anything. */
async function closeProposalDiffs(proposal: string): Promise<void> {
  const tabs = vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter(
      (tab) =>
        tab.input instanceof vscode.TabInputTextDiff && ProposalDocuments.proposalIdOf(tab.input.modified) === proposal,
    );
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
}

/** `path:first-last`, 1-based; a selection ending at the start of a line does not count that line. */
function selectionLabel(path: string, selection: vscode.Selection): string {
  const { start, end } = selection;
  const last = end.character === 0 && end.line > start.line ? end.line : end.line + 1;
  return `${path}:${start.line + 1}-${last}`;
}

export function activeFolderUri(): string | undefined {
  const document = vscode.window.activeTextEditor?.document;
  const folder = document ? vscode.workspace.getWorkspaceFolder(document.uri) : undefined;
  return (folder ?? vscode.workspace.workspaceFolders?.[0])?.uri.toString();
}

export class ClawCommands {
  private running: RunningAsk | undefined;
  /** Told each finished turn's result (the context meter reads its usage). */
  onTurnResult: (result: (AskResult & { usage?: { promptTokens?: number } }) | undefined) => void = () => {};

  constructor(
    private readonly client: ClawClient,
    private readonly conversation: Conversation,
    private readonly view: ConversationView,
    private readonly proposals: ProposalDocuments,
    private readonly secrets: vscode.SecretStorage,
    private readonly output: vscode.LogOutputChannel,
    private readonly onBusyChanged: () => void,
  ) {}

  get askRunning(): boolean {
    return this.running !== undefined;
  }

  register(): vscode.Disposable[] {
    const safely =
      (handler: (...args: unknown[]) => Promise<unknown>) =>
      async (...args: unknown[]): Promise<void> => {
        try {
          await handler(...args);
        } catch (error) {
          void vscode.window.showErrorMessage(`Claw: ${errorText(error)}`);
        }
      };
    const commands: Record<string, (...args: unknown[]) => Promise<unknown>> = {
      "claw.ui.ask": (prompt) => (typeof prompt === "string" ? this.ask(prompt) : this.askInView()),
      "claw.ui.askPropose": (prompt) => this.ask(typeof prompt === "string" ? prompt : undefined, "propose"),
      "claw.ui.cancel": () => this.cancel(),
      "claw.ui.acceptPlan": () => this.acceptPlan(),
      "claw.ui.undoTurn": () => this.undoTurn(),
      "claw.ui.sessions": () => this.showSessions(),
      "claw.ui.newSession": () => this.newSession(),
      "claw.ui.setTier": () => this.setTier(),
      "claw.ui.acceptProposal": (target) => this.decideProposal("accept", target),
      "claw.ui.rejectProposal": (target) => this.decideProposal("reject", target),
      "claw.ui.openProposalDiff": async (target) => {
        const id = await this.pickProposal(target, "Open the diff of which proposal?");
        if (id) await this.proposals.openDiff(id);
      },
      "claw.ui.mcpPrompt": async () => {
        const prompt = await pickMcpPrompt(this.client);
        if (prompt) await this.ask(prompt);
      },
      "claw.ui.mcpServers": () => showMcpServers(this.client, this.output),
      "claw.ui.doctor": () => this.doctor(),
      "claw.ui.restart": () => this.client.restart(),
      "claw.ui.showConversation": () => this.view.reveal(),
      "claw.ui.showOutput": async () => this.output.show(true),
      "claw.ui.setApiKey": () => this.setApiKey(),
      "claw.ui.clearApiKey": () => this.clearApiKey(),
    };
    return Object.entries(commands).map(([id, handler]) => vscode.commands.registerCommand(id, safely(handler)));
  }

  /** Ask without a prompt: the view's input takes focus, with the editor's selection as a chip. */
  private async askInView(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const chip =
      editor && !editor.selection.isEmpty && ["file", "untitled"].includes(editor.document.uri.scheme)
        ? {
            kind: "selection" as const,
            label: selectionLabel(vscode.workspace.asRelativePath(editor.document.uri), editor.selection),
            uri: editor.document.uri.toString(),
            range: this.client.toProtocolRange(editor.selection),
          }
        : undefined;
    await this.view.focusInput(chip);
  }

  /**
   * `editMode` "propose" holds this request's edits for review whatever the setting says;
   * `options.selection` (a chip from the view) is the editor context instead of the active editor.
   */
  async ask(
    presetPrompt?: string,
    editMode?: "propose",
    options: { selection?: { uri: string; range: unknown }; mode?: string } = {},
  ): Promise<void> {
    if (this.running) {
      const choice = await vscode.window.showWarningMessage("Claw is still working on the last request.", "Cancel it");
      if (choice) await this.cancel();
      return;
    }
    const prompt =
      presetPrompt ??
      (await vscode.window.showInputBox({
        title: editMode ? "Claw: Ask Agent (edits are proposed for review)" : "Claw: Ask Agent",
        prompt: "What should the agent do? The active file and selection are included.",
        placeHolder: "e.g. add type hints to this function",
        ignoreFocusOut: true,
      }));
    if (!prompt?.trim()) return;

    const argument: Record<string, unknown> = { prompt };
    if (editMode) argument.editMode = editMode;
    if (options.mode === "plan" || options.mode === "ask") argument.mode = options.mode;
    const folder = activeFolderUri();
    if (folder) argument.folder = folder;
    const editor = vscode.window.activeTextEditor;
    if (options.selection) {
      argument.uri = options.selection.uri;
      argument.range = options.selection.range;
    } else if (editor && ["file", "untitled"].includes(editor.document.uri.scheme)) {
      argument.uri = editor.document.uri.toString();
      if (!editor.selection.isEmpty) argument.range = this.client.toProtocolRange(editor.selection);
    }
    await this.runTurn("claw.ask", argument, prompt);
  }

  /** Runs a request that is a turn (`claw.ask`, `claw.acceptPlan`) with the view following it. */
  async runTurn(command: string, argument: Record<string, unknown>, shown: string): Promise<void> {
    if (this.running) {
      void vscode.window.showWarningMessage("Claw is still working on the last request: Stop it first.");
      return;
    }
    const prompt = shown;
    const localTurn = this.conversation.startLocalTurn(prompt);
    const cancellation = new vscode.CancellationTokenSource();
    this.running = { cancellation, localTurn };
    this.onBusyChanged();
    this.view.refresh();
    void this.view.reveal();
    try {
      const result = await this.client.execute<AskResult>(command, argument, cancellation.token);
      this.conversation.finishAsk(localTurn, result ?? {});
      this.onTurnResult(result);
    } catch (error) {
      if (cancellation.token.isCancellationRequested) this.conversation.finishAsk(localTurn, { stopReason: "cancelled" });
      else this.conversation.failAsk(localTurn, errorText(error));
    } finally {
      cancellation.dispose();
      this.running = undefined;
      this.onBusyChanged();
      this.view.refresh();
    }
  }

  /** claw.acceptPlan (issue 18): carry out the last plan of this session at the folder's
   * tier (the server never raises it); the plan's steps become the todo list. */
  async acceptPlan(): Promise<void> {
    if (this.running) {
      void vscode.window.showWarningMessage("Claw is still working on the last request.");
      return;
    }
    const session = this.conversation.lastSession;
    const folder = activeFolderUri();
    const argument: Record<string, unknown> = session ? { session } : folder ? { folder } : {};
    // The plan in the view no longer offers its buttons once accepted from the palette.
    this.conversation.settlePlans("accepted");
    await this.runTurn("claw.acceptPlan", argument, "Accept the plan");
  }

  async cancel(): Promise<void> {
    const running = this.running;
    const session = running?.localTurn.session ?? this.conversation.lastSession;
    // Ask the server to stop the turn (it closes the stream and kills shell commands) and still
    // wait for its "cancelled" result; drop the request only if the server does not answer.
    await this.client.execute("claw.cancel", session ? { session } : {});
    if (running) {
      setTimeout(() => {
        if (this.running === running) running.cancellation.cancel();
      }, CANCEL_GRACE_MS);
    }
  }

  /** Undoes the last turn's edits, or (from a turn's button) that turn's. */
  async undoTurn(target?: { session: string; turn?: number }): Promise<void> {
    const session = target?.session ?? this.conversation.lastSession;
    const argument: Record<string, unknown> = session ? { session } : {};
    if (target?.turn !== undefined) argument.turn = target.turn;
    const result = await this.client.execute<Record<string, unknown> | null>("claw.undoTurn", argument);
    const message = typeof result?.message === "string" ? result.message : "Undid the last turn's edits.";
    const undoneSession = typeof result?.session === "string" ? result.session : session;
    const undoneTurn = typeof result?.turn === "number" ? result.turn : target?.turn;
    if (undoneSession && undoneTurn !== undefined) this.conversation.markUndone(undoneSession, undoneTurn);
    this.conversation.addNotice(message);
    this.view.refresh();
    void vscode.window.showInformationMessage(`Claw: ${message}`);
  }

  private async newSession(): Promise<void> {
    const folder = activeFolderUri();
    const result = await this.client.execute<{ session?: string }>("claw.newSession", folder ? { folder } : {});
    if (result?.session) this.conversation.lastSession = result.session;
    this.conversation.addNotice("New session started.");
    this.view.refresh();
  }

  private async showSessions(): Promise<void> {
    await pickSession(this.client, this.conversation);
    this.view.refresh();
  }

  private async setTier(): Promise<void> {
    const picked = await vscode.window.showQuickPick(
      TIERS.map((tier) => ({ label: tier, detail: TIER_DESCRIPTIONS[tier] })),
      { title: "Claw: Set Permission Tier", placeHolder: "What may the agent do without asking?" },
    );
    if (picked) await this.setTierTo(picked.label);
  }

  /** Switches the tier; `unsafe` asks for a confirmation first. */
  async setTierTo(tier: string): Promise<void> {
    const picked = { label: tier };
    if (picked.label === "unsafe") {
      const confirm = await vscode.window.showWarningMessage(
        "Let Claw do everything without asking, including shell commands and edits to protected files such as .git and .vscode?",
        { modal: true, detail: "Use this only in a throwaway workspace. You can switch back at any time." },
        "Switch to unsafe",
      );
      if (confirm !== "Switch to unsafe") return;
    }
    const folder = activeFolderUri();
    await this.client.execute("claw.setTier", folder ? { folder, tier: picked.label } : { tier: picked.label });
  }

  private async pickProposal(target: unknown, title: string): Promise<string | undefined> {
    if (typeof target === "string" && target) return target;
    if (target && typeof target === "object" && "proposal" in target && typeof target.proposal === "string") {
      return target.proposal;
    }
    const fromUri = ProposalDocuments.proposalIdOf(target instanceof vscode.Uri ? target : undefined);
    if (fromUri) return fromUri;
    const fromEditor = ProposalDocuments.proposalIdOf(vscode.window.activeTextEditor?.document.uri);
    if (fromEditor) return fromEditor;

    const pending = new Map(this.conversation.pendingProposals().map((p) => [p.proposal, p]));
    try {
      const fromServer = await this.client.execute<Array<{ proposal: string; uri: string; diff: string }>>("claw.proposals", {});
      for (const proposal of fromServer ?? []) {
        pending.set(proposal.proposal, proposal);
        this.proposals.remember(proposal);
      }
    } catch {
      // An older server without claw.proposals: the ones seen in events are enough.
    }
    if (pending.size === 0) {
      void vscode.window.showInformationMessage("Claw: there are no pending proposals.");
      return undefined;
    }
    if (pending.size === 1) return [...pending.keys()][0];
    const picked = await vscode.window.showQuickPick(
      [...pending.values()].map((p) => ({ label: vscode.workspace.asRelativePath(vscode.Uri.parse(p.uri)), detail: p.proposal, id: p.proposal })),
      { title },
    );
    return picked?.id;
  }

  async decideProposal(decision: "accept" | "reject", target: unknown): Promise<void> {
    const id = await this.pickProposal(target, decision === "accept" ? "Accept which proposal?" : "Reject which proposal?");
    if (!id) return;
    const command = decision === "accept" ? "claw.acceptProposal" : "claw.rejectProposal";
    try {
      const result =
        decision === "accept"
          ? await this.client.executeConfirmed<{ applied?: boolean } | null>(command, { proposal: id })
          : await this.client.execute<{ applied?: boolean } | null>(command, { proposal: id });
      const failed = decision === "accept" && result?.applied === false;
      this.conversation.setProposalState(id, failed ? "failed" : decision === "accept" ? "accepted" : "rejected");
      if (failed) void vscode.window.showWarningMessage("Claw: the proposal could not be applied (the file changed since?).");
      else {
        this.proposals.forget(id);
        await closeProposalDiffs(id);
      }
    } finally {
      this.view.refresh();
    }
  }

  private async doctor(): Promise<void> {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Claw: checking the backend…" },
      () => this.client.execute<{ text?: string }>("claw.doctor", {}),
    );
    this.output.appendLine("── Claw doctor ──");
    this.output.appendLine(result?.text ?? JSON.stringify(result, null, 2));
    this.output.show(true);
  }

  private async setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: "Claw: Set API Key",
      prompt: "Stored in VS Code's secret storage and passed to the server as CLAW_API_KEY. OPENAI_API_KEY / CLAW_API_KEY in the environment take precedence.",
      password: true,
      ignoreFocusOut: true,
    });
    if (!key) return;
    await this.secrets.store(API_KEY_SECRET, key);
    await this.client.restart();
    void vscode.window.showInformationMessage("Claw: API key stored; the server was restarted.");
  }

  private async clearApiKey(): Promise<void> {
    await this.secrets.delete(API_KEY_SECRET);
    await this.client.restart();
    void vscode.window.showInformationMessage("Claw: API key removed from secret storage.");
  }

  dispose(): void {
    this.running?.cancellation.cancel();
  }
}
