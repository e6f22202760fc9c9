// Conversation view model -> HTML for the webview. Every string from the server or the model
// is escaped; assistant text goes through the neutralising Markdown renderer.
import type { ConversationItem, TodoItem, TurnView } from "./conversation";
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
  plan: "Plan ready",
};

const TODO_MARKS: Record<TodoItem["status"], string> = { pending: "☐", in_progress: "◐", completed: "☑" };
const TODO_LABELS: Record<TodoItem["status"], string> = { pending: "to do", in_progress: "in progress", completed: "done" };

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

function renderItem(item: ConversationItem, turnKey: string, index: number, options: RenderOptions, session = ""): string {
  switch (item.type) {
    case "user":
      return `<div class="item user"><span class="who">You</span><div class="body">${escapeHtml(item.text)}</div></div>`;
    case "assistant":
      return `<div class="item assistant markdown">${renderMarkdown(item.markdown)}</div>`;
    case "tool": {
      const statusLabel = item.status === "running" ? "running…" : item.status === "ok" ? "ok" : "failed";
      const summary = item.summary ? `<div class="tool-summary">${escapeHtml(item.summary)}</div>` : "";
      const args = item.argumentsText ? `<pre class="tool-arguments">${escapeHtml(item.argumentsText)}</pre>` : "";
      const key = `${turnKey}/tool/${item.id}/${index}`;
      const nested = item.children?.length
        ? `<div class="subagent" role="group" aria-label="Subagent of ${escapeHtml(item.name)}">${item.children.map((child, i) => renderItem(child, key, i, options, session)).join("")}</div>`
        : "";
      return (
        `<details class="item tool tool-${item.status}" data-key="${escapeHtml(key)}">` +
        `<summary aria-label="Tool call ${escapeHtml(item.name)}, ${statusLabel}"><span class="tool-name">${escapeHtml(item.name)}</span> <span class="tool-status">${statusLabel}</span></summary>` +
        `${args}${summary}${nested}</details>`
      );
    }
    case "edit": {
      const path = displayPath(item.uri, options.folderUris);
      const state = item.applied ? "edited" : "edit rejected by the editor";
      const link = item.applied
        ? ` ${button("openEditDiff", "Open diff", { key: item.diffKey, uri: item.uri })}`
        : "";
      const head =
        `<a href="#" data-action="openFile" data-uri="${escapeHtml(item.uri)}">${escapeHtml(path)}</a> ` +
        `<span class="edit-state">${state}</span>${link}`;
      if (!item.diff) return `<div class="item edit${item.applied ? "" : " failed"}">${head}</div>`;
      return (
        `<div class="item edit"><details open data-key="${escapeHtml(`${turnKey}/edit/${index}`)}">` +
        `<summary aria-label="Diff of ${escapeHtml(path)}">${escapeHtml(path)}</summary>${renderDiff(item.diff)}</details>${head}</div>`
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
        `<details data-key="${escapeHtml(`${turnKey}/proposal/${item.proposal}`)}"><summary>diff</summary>${renderDiff(item.diff)}</details>` +
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
      return (
        `<div class="item error banner" role="alert"><b>Error:</b> ${escapeHtml(item.message)}` +
        `<div class="hint">Run <b>Claw: Doctor</b> to check the backend and the sandbox.</div></div>`
      );
    case "notice":
      return `<div class="item notice">${escapeHtml(item.text)}</div>`;
    case "attachment": {
      const size = item.chars !== undefined ? ` (${item.chars} chars)` : "";
      return `<div class="item attachment">Attached ${escapeHtml(item.kind)} <code>${escapeHtml(item.name)}</code>${size}</div>`;
    }
    case "plan": {
      const actions =
        item.state === "proposed"
          ? `<div class="actions">${button("acceptPlan", "Accept", { plan: item.plan, session }, true)}` +
            `${button("editPlan", "Edit", { plan: item.plan })}${button("keepPlanning", "Keep planning", {})}</div>`
          : `<div class="plan-state">${item.state === "accepted" ? "accepted" : "superseded"}</div>`;
      return `<div class="item plan plan-${item.state}" role="region" aria-label="Plan" data-key="${escapeHtml(`${turnKey}/plan/${index}`)}"><div class="plan-title">Plan</div><div class="markdown">${renderMarkdown(item.plan)}</div>${actions}</div>`;
    }
  }
}

/** A unified diff with its added/removed lines marked (colours come from the theme). */
export function renderDiff(diff: string): string {
  const lines = diff.replace(/\n$/, "").split("\n").map((line) => {
    const kind = line.startsWith("@@") ? "hunk" : line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "ctx";
    return `<span class="diff-${kind}">${escapeHtml(line)}</span>`;
  });
  return `<pre class="diff" aria-label="Diff">${lines.join("\n")}</pre>`;
}

export function renderTodos(todos: readonly TodoItem[]): string {
  const done = todos.filter((todo) => todo.status === "completed").length;
  const rows = todos
    .map(
      (todo) =>
        `<li class="todo todo-${todo.status}" aria-label="${escapeHtml(`${todo.content}: ${TODO_LABELS[todo.status]}`)}">` +
        `<span class="todo-mark" aria-hidden="true">${TODO_MARKS[todo.status]}</span> ${escapeHtml(todo.content)}</li>`,
    )
    .join("");
  return `<div class="item todos" role="region" aria-label="Todo list, ${done} of ${todos.length} done"><div class="todos-title">Todo ${done}/${todos.length}</div><ul>${rows}</ul></div>`;
}

export function renderTurn(turn: TurnView, options: RenderOptions): string {
  const items = turn.items.map((item, index) => renderItem(item, turn.key, index, options, turn.session ?? "")).join("");
  const todos = turn.todos?.length ? renderTodos(turn.todos) : "";
  const edited = turn.items.some((item) => item.type === "edit" && item.applied);
  const undo =
    edited && turn.undone
      ? `<div class="turn-status">Undone</div>`
      : edited && !turn.running && turn.session
      ? `<div class="actions turn-actions">${button("undoTurn", "Undo turn", { session: turn.session, turn: String(turn.turn ?? "") })}</div>`
      : "";
  const footer = turn.running
    ? `<div class="turn-status running">Working…</div>`
    : turn.stopReason
      ? `<div class="turn-status stop-${escapeHtml(turn.stopReason)}">${escapeHtml(STOP_REASON_LABELS[turn.stopReason] ?? turn.stopReason)}</div>`
      : "";
  return `<section class="turn" data-turn="${escapeHtml(turn.key)}" aria-label="Turn">${items}${todos}${footer}${undo}</section>`;
}

export function renderConversation(turns: readonly TurnView[], options: RenderOptions): string {
  if (turns.length === 0) {
    return `<div class="empty">Type below to ask the agent: <b>/</b> completes commands, <b>@</b> attaches files. Select code and press Ctrl+Alt+A to attach it.</div>`;
  }
  return turns.map((turn) => renderTurn(turn, options)).join("");
}
