// Virtual documents for review: the proposed text of a proposal (diffed against the live buffer)
// and the text a file had before the agent edited it in a turn ("Open diff" on an edit).
import * as path from "node:path";
import * as vscode from "vscode";
import { editDiffKey } from "./pure/conversation";
import { applyUnifiedDiff } from "./pure/unifiedDiff";

export const PROPOSAL_SCHEME = "claw-proposal";
export const SNAPSHOT_SCHEME = "claw-snapshot";
const MAX_SNAPSHOTS = 200;

interface ProtocolWorkspaceEdit {
  changes?: Record<string, unknown>;
  documentChanges?: Array<{ kind?: string; uri?: string; textDocument?: { uri?: string } }>;
}

export async function currentText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

export class EditSnapshots implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();

  /** Records each target's text before an agent edit, once per (session, turn, file). */
  async captureBefore(edit: ProtocolWorkspaceEdit, session: string | undefined, turn: number | undefined): Promise<void> {
    const uris = new Set<string>(Object.keys(edit?.changes ?? {}));
    for (const change of edit?.documentChanges ?? []) {
      if (change.textDocument?.uri) uris.add(change.textDocument.uri);
      else if (change.kind === "create" && change.uri) uris.add(change.uri);
    }
    for (const uri of uris) {
      const key = editDiffKey(session, turn, uri);
      if (this.texts.has(key)) continue;
      this.texts.set(key, (await currentText(vscode.Uri.parse(uri))) ?? "");
      if (this.texts.size > MAX_SNAPSHOTS) this.texts.delete(this.texts.keys().next().value as string);
    }
  }

  has(key: string): boolean {
    return this.texts.has(key);
  }

  /** The text the file had before the turn's first edit to it. */
  before(key: string): string | undefined {
    return this.texts.get(key);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(decodeURIComponent(uri.query)) ?? "";
  }

  async openDiff(key: string, fileUri: string): Promise<void> {
    const target = vscode.Uri.parse(fileUri);
    const name = path.posix.basename(target.path);
    if (!this.texts.has(key)) {
      await vscode.window.showTextDocument(target, { preview: true });
      return;
    }
    const before = vscode.Uri.from({ scheme: SNAPSHOT_SCHEME, path: `/${name}`, query: encodeURIComponent(key) });
    await vscode.commands.executeCommand("vscode.diff", before, target, `${name} (before Claw ↔ now)`, { preview: true });
  }
}

export interface KnownProposal {
  proposal: string;
  uri: string;
  diff: string;
}

export class ProposalDocuments implements vscode.TextDocumentContentProvider {
  private readonly proposals = new Map<string, KnownProposal>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  remember(proposal: KnownProposal): void {
    this.proposals.set(proposal.proposal, proposal);
  }

  get(proposal: string): KnownProposal | undefined {
    return this.proposals.get(proposal);
  }

  forget(proposal: string): void {
    this.proposals.delete(proposal);
  }

  static proposalIdOf(uri: vscode.Uri | undefined): string | undefined {
    if (!uri || uri.scheme !== PROPOSAL_SCHEME) return undefined;
    return new URLSearchParams(uri.query).get("proposal") ?? undefined;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const known = this.proposals.get(ProposalDocuments.proposalIdOf(uri) ?? "");
    if (!known) return "This proposal is no longer pending.\n";
    const original = await currentText(vscode.Uri.parse(known.uri));
    const proposed = original === undefined ? applyUnifiedDiff("", known.diff) : applyUnifiedDiff(original, known.diff);
    return proposed ?? `The proposal no longer fits the file (it changed since). The proposed diff:\n\n${known.diff}`;
  }

  async openDiff(proposalId: string): Promise<void> {
    const known = this.proposals.get(proposalId);
    if (!known) {
      void vscode.window.showWarningMessage("Claw: that proposal is no longer pending.");
      return;
    }
    const target = vscode.Uri.parse(known.uri);
    const name = path.posix.basename(target.path);
    const proposed = vscode.Uri.from({
      scheme: PROPOSAL_SCHEME,
      path: target.path,
      query: new URLSearchParams({ proposal: proposalId }).toString(),
    });
    this.changed.fire(proposed);
    await vscode.commands.executeCommand("vscode.diff", target, proposed, `${name}: current ↔ proposed by Claw`, {
      preview: true,
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
