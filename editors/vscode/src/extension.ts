// Entry point: wires the language client, the conversation view, proposals and commands.
import * as vscode from "vscode";
import { ClawClient, type ClawStatus } from "./client";
import { activeFolderUri, ClawCommands } from "./commands";
import { Conversation } from "./pure/conversation";
import { USER_ONLY_KEYS } from "./pure/settings";
import { EditSnapshots, PROPOSAL_SCHEME, ProposalDocuments, SNAPSHOT_SCHEME } from "./proposals";
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
  const view = new ConversationView(context.extensionUri, conversation, {
    acceptProposal: (proposal) => void vscode.commands.executeCommand("claw.ui.acceptProposal", proposal),
    rejectProposal: (proposal) => void vscode.commands.executeCommand("claw.ui.rejectProposal", proposal),
    openProposalDiff: (proposal) => void proposals.openDiff(proposal),
    openEditDiff: (key, uri) => void snapshots.openDiff(key, uri),
    openFile: (uri) => void vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: true }),
  });

  const showStatus = (): void => {
    const folder = activeFolderUri();
    const status = (folder && statusByFolder.get(folder)) || [...statusByFolder.values()].pop();
    statusBar.update({ tier: status?.tier, busy: Boolean(status?.busy) || conversation.busy || Boolean(commands?.askRunning) });
  };

  const client = new ClawClient(context.secrets, output, snapshots, {
    onEvent: (event) => {
      const knownTurns = conversation.view.length;
      conversation.apply(event);
      if (event?.kind === "proposal" && typeof event.proposal === "string") {
        proposals.remember({ proposal: event.proposal, uri: String(event.uri ?? ""), diff: String(event.diff ?? "") });
      }
      // A turn started elsewhere (a code action): show it, without taking focus.
      if (conversation.view.length > knownTurns && !commands?.askRunning) void view.reveal();
      view.refresh();
      showStatus();
    },
    onStatus: (status) => {
      statusByFolder.set(status?.folder ?? "", status);
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
  clawClient = client;

  const refreshStatus = async (): Promise<void> => {
    const folder = activeFolderUri();
    try {
      const status = await client.execute<ClawStatus>("claw.status", folder ? { folder } : {});
      statusByFolder.set(status?.folder ?? folder ?? "", { ...status, folder: status?.folder ?? folder });
      showStatus();
    } catch {
      // An older server without claw.status: the status notifications still arrive.
    }
  };

  commands = new ClawCommands(client, conversation, view, proposals, context.secrets, output, showStatus);
  context.subscriptions.push(
    output,
    statusBar,
    proposals,
    client,
    commands,
    vscode.window.registerWebviewViewProvider(CONVERSATION_VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, proposals),
    vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, snapshots),
    ...commands.register(),
    vscode.window.onDidChangeActiveTextEditor(() => showStatus()),
    vscode.workspace.onDidChangeConfiguration((change) => {
      // User-only settings (a new executable, MCP servers, tier, backend, ...) reach the server
      // only in initializationOptions (it never takes them from workspace/configuration): restart.
      if (USER_ONLY_KEYS.some((key) => change.affectsConfiguration(`claw.${key}`))) {
        void client.restart();
      } else if (change.affectsConfiguration("claw")) client.notifyConfigurationChanged();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => client.notifyConfigurationChanged()),
  );

  await client.start();
}

export async function deactivate(): Promise<void> {
  await clawClient?.stop();
  clawClient = undefined;
}
