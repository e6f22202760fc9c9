// Entry point: wires the language client, the conversation view, proposals and commands.
import * as vscode from "vscode";
import { ClawClient, type ClawStatus } from "./client";
import { activeFolderUri, ClawCommands } from "./commands";
import { ChatPane } from "./pane";
import { Conversation, type ClawEvent, editDiffKey } from "./pure/conversation";
import { inlineDiff } from "./pure/inlineDiff";
import { TIERS, USER_ONLY_KEYS } from "./pure/settings";
import { offeredTiers, type ToolbarState } from "./pure/toolbar";
import { currentText, EditSnapshots, PROPOSAL_SCHEME, ProposalDocuments, SNAPSHOT_SCHEME } from "./proposals";
import { ClawStatusBar } from "./statusBar";
import { CONVERSATION_VIEW_ID, ConversationView } from "./view";

let clawClient: ClawClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Claw", { log: true });
  const conversation = new Conversation();
  const snapshots = new EditSnapshots();
  const proposals = new ProposalDocuments();
  const statusBar = new ClawStatusBar();
  const statusByFolder = new Map<string, ClawStatus>();

  let commands: ClawCommands | undefined;
  let models: string[] = [];
  let lastPromptTokens: number | undefined;
  // Declared before it is built: the pane and the view reach the client only once it runs.
  let client: ClawClient | undefined;
  const pane = new ChatPane(
    () => client as ClawClient,
    () => commands,
    conversation,
    () => view.refresh(),
    () => void loadModels(),
  );
  const view = new ConversationView(
    context.extensionUri,
    conversation,
    pane.actions({
      acceptProposal: (proposal) => void vscode.commands.executeCommand("claw.ui.acceptProposal", proposal),
      rejectProposal: (proposal) => void vscode.commands.executeCommand("claw.ui.rejectProposal", proposal),
      openProposalDiff: (proposal) => void proposals.openDiff(proposal),
      openEditDiff: (key, uri) => void snapshots.openDiff(key, uri),
      openFile: (uri) => void vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: true }),
    }),
  );

  const currentStatus = (): ClawStatus | undefined => {
    const folder = activeFolderUri();
    return (folder && statusByFolder.get(folder)) || [...statusByFolder.values()].pop();
  };

  const showStatus = (): void => {
    const status = currentStatus();
    const busy = Boolean(status?.busy) || conversation.busy || Boolean(commands?.askRunning);
    statusBar.update({ tier: status?.tier, busy });
    const chat = vscode.workspace.getConfiguration("claw.chat");
    const userTier = vscode.workspace.getConfiguration("claw").inspect<string>("tier")?.globalValue;
    const state: ToolbarState = {
      busy,
      tier: status?.tier,
      tiers: offeredTiers(TIERS, userTier, chat.inspect<boolean>("allowUnsafeTier")?.globalValue === true),
      model: status?.backend?.model,
      models,
      contextTokens: status?.contextTokens ?? lastPromptTokens,
      contextWindow: status?.contextWindow,
      compactThreshold: status?.compactThreshold,
      sendWith: chat.get<string>("sendWith") === "ctrlEnter" ? "ctrlEnter" : "enter",
    };
    view.updateToolbar(state);
  };

  const loadModels = async (): Promise<void> => {
    try {
      const listed = await client?.execute<{ models?: unknown }>("claw.models", {});
      const names = Array.isArray(listed?.models) ? listed.models.filter((m): m is string => typeof m === "string") : [];
      if (names.length > 0) models = names;
      showStatus();
    } catch {
      // A server without claw.models: the picker shows the current model only.
    }
  };

  /** An applied edit gets its inline diff: the snapshot before the turn against the buffer now. */
  const showEditDiff = async (event: ClawEvent): Promise<void> => {
    if (event.kind !== "edit" || event.applied === false || typeof event.uri !== "string") return;
    const key = editDiffKey(event.session, event.turn, event.uri);
    const before = snapshots.before(key);
    const after = await currentText(vscode.Uri.parse(event.uri));
    if (before === undefined || after === undefined) return;
    if (conversation.setEditDiff(key, inlineDiff(before, after))) view.refresh();
  };

  const started = new ClawClient(context.secrets, output, snapshots, {
    onEvent: (event) => {
      const knownTurns = conversation.view.length;
      conversation.apply(event);
      void showEditDiff(event);
      if (event?.kind === "proposal" && typeof event.proposal === "string") {
        proposals.remember({ proposal: event.proposal, uri: String(event.uri ?? ""), diff: String(event.diff ?? "") });
      }
      // A turn started elsewhere (a code action): show it, without taking focus.
      if (conversation.view.length > knownTurns && !commands?.askRunning) void view.reveal();
      view.refresh();
      showStatus();
    },
    onStatus: (status) => {
      // The notification carries fewer fields than claw.status (no backend): keep the others.
      const folder = status?.folder ?? "";
      statusByFolder.set(folder, { ...statusByFolder.get(folder), ...status });
      showStatus();
    },
    onCommandExecuted: (command, argument, result) => {
      const proposal = (argument as { proposal?: unknown } | undefined)?.proposal;
      if (typeof proposal !== "string") return;
      const applied = (result as { applied?: unknown } | null | undefined)?.applied !== false;
      if (command === "claw.acceptProposal") conversation.setProposalState(proposal, applied ? "accepted" : "failed");
      else if (command === "claw.rejectProposal") conversation.setProposalState(proposal, "rejected");
      else return;
      view.refresh();
    },
    onRunningChanged: (running) => {
      statusBar.update({ serverRunning: running });
      if (running) void refreshStatus();
    },
  });
  client = started;
  clawClient = started;

  const refreshStatus = async (): Promise<void> => {
    const folder = activeFolderUri();
    try {
      const status = await started.execute<ClawStatus>("claw.status", folder ? { folder } : {});
      statusByFolder.set(status?.folder ?? folder ?? "", { ...status, folder: status?.folder ?? folder });
      showStatus();
    } catch {
      // An older server without claw.status: the status notifications still arrive.
    }
  };

  commands = new ClawCommands(started, conversation, view, proposals, context.secrets, output, showStatus);
  commands.onTurnResult = (result) => {
    if (typeof result?.usage?.promptTokens === "number") lastPromptTokens = result.usage.promptTokens;
    void refreshStatus();
  };
  context.subscriptions.push(
    output,
    statusBar,
    proposals,
    started,
    commands,
    vscode.window.registerWebviewViewProvider(CONVERSATION_VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, proposals),
    vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, snapshots),
    ...commands.register(),
    vscode.commands.registerCommand("claw.ui.pickCommand", async () => {
      try {
        await pane.pickCommand((text) => view.focusInput(undefined, text));
      } catch (error) {
        void vscode.window.showErrorMessage(`Claw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      pane.trackEditor(editor);
      showStatus();
    }),
    vscode.workspace.onDidChangeConfiguration((change) => {
      // User-only settings (a new executable, MCP servers, tier, backend, ...) reach the server
      // only in initializationOptions (it never takes them from workspace/configuration): restart.
      if (USER_ONLY_KEYS.some((key) => change.affectsConfiguration(`claw.${key}`))) {
        void started.restart();
      } else if (change.affectsConfiguration("claw")) started.notifyConfigurationChanged();
      if (change.affectsConfiguration("claw.chat") || change.affectsConfiguration("claw.tier")) showStatus();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => started.notifyConfigurationChanged()),
  );

  await started.start();
}

export async function deactivate(): Promise<void> {
  await clawClient?.stop();
  clawClient = undefined;
}
