// The folder's sessions in a quick pick, and what to do with the one picked.
import * as vscode from "vscode";
import type { ClawClient } from "./client";
import { activeFolderUri } from "./commands";
import type { Conversation } from "./pure/conversation";

interface SessionInfo {
  id: string;
  title?: string;
  created?: string;
  updated?: string;
  turns?: number;
}

/** The session picker: resume, fork, export or delete one of the folder's sessions. */
export async function pickSession(client: ClawClient, conversation: Conversation): Promise<void> {
  const folder = activeFolderUri();
  const sessions = await client.execute<SessionInfo[]>("claw.sessions", folder ? { folder } : {});
  if (!Array.isArray(sessions) || sessions.length === 0) {
    void vscode.window.showInformationMessage("Claw: no sessions in this folder yet.");
    return;
  }
  const picked = await vscode.window.showQuickPick(
    sessions.map((session) => ({
      label: session.title || session.id,
      description: `${session.turns ?? 0} turns`,
      detail: `updated ${session.updated ?? session.created ?? "?"} · ${session.id}`,
      session,
    })),
    { title: "Claw: Sessions", placeHolder: "Pick a session" },
  );
  if (!picked) return;
  const action = await vscode.window.showQuickPick(
    [
      { label: "Resume", description: "Continue this session in the next request" },
      { label: "Fork", description: "Start a new session from a copy of this one" },
      { label: "Export", description: "Open the conversation as Markdown" },
      { label: "Delete", description: "Remove the session file" },
    ],
    { title: `Session: ${picked.label}` },
  );
  const id = picked.session.id;
  switch (action?.label) {
    case "Resume":
      await client.execute("claw.resumeSession", { session: id });
      conversation.lastSession = id;
      conversation.addNotice(`Resumed session "${picked.label}".`);
      break;
    case "Fork": {
      const forked = await client.execute<{ session?: string }>("claw.forkSession", { session: id });
      if (forked?.session) conversation.lastSession = forked.session;
      conversation.addNotice(`Forked session "${picked.label}".`);
      break;
    }
    case "Export": {
      const exported = await client.execute<{ markdown?: string }>("claw.exportSession", { session: id });
      const document = await vscode.workspace.openTextDocument({ language: "markdown", content: exported?.markdown ?? "" });
      await vscode.window.showTextDocument(document, { preview: false });
      break;
    }
    case "Delete": {
      const confirm = await vscode.window.showWarningMessage(
        `Delete the session "${picked.label}"? This cannot be undone.`,
        { modal: true },
        "Delete",
      );
      if (confirm === "Delete") {
        await client.execute("claw.deleteSession", { session: id });
        if (conversation.lastSession === id) conversation.lastSession = undefined;
        conversation.addNotice(`Deleted session "${picked.label}".`);
      }
      break;
    }
    default:
      return;
  }
}

