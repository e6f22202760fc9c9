// Conversation view model -> HTML for the webview. Every string from the server or the model
// is escaped; assistant text goes through the neutralising Markdown renderer.
import type { ConversationItem, TurnView } from "./conversation";
import { escapeHtml, renderMarkdown } from "./markdown";
import { displayPath } from "./paths";

export interface RenderOptions {
  folderUris: readonly string[];
}

const STOP_REASON_LABELS: Record<string, string> = {
  done: "Done",
  cancelled: "Cancelled",
  error: "Stopped by an error",
  maxTurns: "Stopped: turn limit reached",
  local: "Answered locally",
};

// Approval decisions as the server names them ("once", "session", "deny", ...), in words.
const DECISION_LABELS: Record<string, string> = {
  once: "allowed once",
  session: "allowed for this session",
  deny: "denied",
  denied: "denied",
  timeout: "denied (no answer)",
};
const DENIED_DECISION = /den|reject|refus|time|^no$/i;

function button(action: string, label: string, data: Record<string, string>, primary = false): string {
  const attributes = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join("");
  return `<button class="${primary ? "primary" : "secondary"}" data-action="${action}"${attributes}>${escapeHtml(label)}</button>`;
}

function renderItem(item: ConversationItem, turnKey: string, index: number, options: RenderOptions): string {
  switch (item.type) {
    case "user":
      return `<div class="item user"><span class="who">You</span><div class="body">${escapeHtml(item.text)}</div></div>`;
    case "assistant":
      return `<div class="item assistant markdown">${renderMarkdown(item.markdown)}</div>`;
    case "tool": {
      const statusLabel = item.status === "running" ? "running…" : item.status === "ok" ? "ok" : "failed";
      const summary = item.summary ? `<div class="tool-summary">${escapeHtml(item.summary)}</div>` : "";
      const args = item.argumentsText ? `<pre class="tool-arguments">${escapeHtml(item.argumentsText)}</pre>` : "";
      return (
        `<details class="item tool tool-${item.status}" data-key="${escapeHtml(`${turnKey}/tool/${item.id}/${index}`)}">` +
        `<summary><span class="tool-name">${escapeHtml(item.name)}</span> <span class="tool-status">${statusLabel}</span></summary>` +
        `${args}${summary}</details>`
      );
    }
    case "edit": {
      const path = displayPath(item.uri, options.folderUris);
      const state = item.applied ? "edited" : "edit rejected by the editor";
      const link = item.applied
        ? ` ${button("openEditDiff", "Open diff", { key: item.diffKey, uri: item.uri })}`
        : "";
      return (
        `<div class="item edit${item.applied ? "" : " failed"}">` +
        `<a href="#" data-action="openFile" data-uri="${escapeHtml(item.uri)}">${escapeHtml(path)}</a> ` +
        `<span class="edit-state">${state}</span>${link}</div>`
      );
    }
    case "proposal": {
      const path = displayPath(item.uri, options.folderUris);
      const data = { proposal: item.proposal, uri: item.uri };
      const actions =
        item.state === "pending"
          ? `<div class="actions">${button("acceptProposal", "Accept", data, true)}${button("rejectProposal", "Reject", data)}${button("openProposalDiff", "Open diff", data)}</div>`
          : `<div class="proposal-state">${escapeHtml(item.state)}</div>`;
      return (
        `<div class="item proposal proposal-${item.state}" data-proposal="${escapeHtml(item.proposal)}">` +
        `<div class="proposal-title">Proposed change to <a href="#" data-action="openFile" data-uri="${escapeHtml(item.uri)}">${escapeHtml(path)}</a></div>` +
        `<details data-key="${escapeHtml(`${turnKey}/proposal/${item.proposal}`)}"><summary>diff</summary><pre class="diff">${escapeHtml(item.diff)}</pre></details>` +
        `${actions}</div>`
      );
    }
    case "approval": {
      const allowed = !DENIED_DECISION.test(item.decision);
      const detail = item.detail ? ` <code>${escapeHtml(item.detail)}</code>` : "";
      const decision = DECISION_LABELS[item.decision] ?? item.decision;
      return `<div class="item approval ${allowed ? "allowed" : "denied"}">Approval for <b>${escapeHtml(item.tool)}</b>${detail}: ${escapeHtml(decision)}</div>`;
    }
    case "unsaved": {
      const paths = item.uris.map((uri) => escapeHtml(displayPath(uri, options.folderUris))).join(", ");
      return `<div class="item unsaved">Unsaved changes in ${paths}</div>`;
    }
    case "error":
      return `<div class="item error">${escapeHtml(item.message)}</div>`;
    case "notice":
      return `<div class="item notice">${escapeHtml(item.text)}</div>`;
  }
}

export function renderTurn(turn: TurnView, options: RenderOptions): string {
  const items = turn.items.map((item, index) => renderItem(item, turn.key, index, options)).join("");
  const footer = turn.running
    ? `<div class="turn-status running">Working…</div>`
    : turn.stopReason
      ? `<div class="turn-status stop-${escapeHtml(turn.stopReason)}">${escapeHtml(STOP_REASON_LABELS[turn.stopReason] ?? turn.stopReason)}</div>`
      : "";
  return `<section class="turn" data-turn="${escapeHtml(turn.key)}">${items}${footer}</section>`;
}

export function renderConversation(turns: readonly TurnView[], options: RenderOptions): string {
  if (turns.length === 0) {
    return `<div class="empty">Ask the agent with <b>Claw: Ask Agent</b> (Ctrl+Alt+A). The conversation streams here.</div>`;
  }
  return turns.map((turn) => renderTurn(turn, options)).join("");
}
