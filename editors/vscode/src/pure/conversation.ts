// The conversation as the view shows it, built from `claw/event` notifications.
// Pure: no vscode import, so node's test runner can exercise it directly.

export interface ClawEvent {
  session: string;
  turn: number;
  kind: string;
  [field: string]: unknown;
}

export type ProposalState = "pending" | "accepted" | "rejected" | "failed";

export type ConversationItem =
  | { type: "user"; text: string }
  | { type: "assistant"; markdown: string }
  | {
      type: "tool";
      id: string;
      name: string;
      argumentsText: string;
      status: "running" | "ok" | "failed";
      summary?: string;
      /** A subagent's events, nested under the call that started it (collapsed). */
      children?: ConversationItem[];
    }
  | { type: "edit"; uri: string; applied: boolean; diffKey: string; diff?: string }
  | { type: "proposal"; proposal: string; uri: string; diff: string; state: ProposalState }
  | { type: "approval"; tool: string; decision: string; detail?: string }
  | { type: "unsaved"; uris: string[] }
  | { type: "error"; message: string }
  | { type: "notice"; text: string }
  | { type: "attachment"; kind: string; name: string; chars?: number }
  | { type: "plan"; plan: string; state: "proposed" | "accepted" | "superseded" };

export type TodoStatus = "pending" | "in_progress" | "completed";
export interface TodoItem {
  id: string;
  content: string;
  status: TodoStatus;
}

export interface TurnView {
  /** Stable id for the view (used to keep collapsed/expanded state across renders). */
  key: string;
  session?: string;
  turn?: number;
  items: ConversationItem[];
  running: boolean;
  stopReason?: string;
  /** The turn's edits were undone (its Undo turn button is gone). */
  undone?: boolean;
  /** The live checklist (the latest `todo` event of the turn). */
  todos?: TodoItem[];
}

/** The finished `claw.ask` result, as far as the view cares. */
export interface AskResult {
  session?: string;
  turn?: number;
  text?: string;
  stopReason?: string;
  plan?: string;
}

const MAX_TURNS_KEPT = 50;

function asString(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function argumentsAsText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? "";
  } catch {
    return String(value);
  }
}

const TODO_STATUSES: readonly string[] = ["pending", "in_progress", "completed"];

export function parseTodos(value: unknown): TodoItem[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((todo): todo is Record<string, unknown> => Boolean(todo) && typeof todo === "object")
    .map((todo, index) => ({
      id: asString(todo.id, String(index + 1)),
      content: asString(todo.content),
      status: (TODO_STATUSES.includes(asString(todo.status)) ? asString(todo.status) : "pending") as TodoStatus,
    }));
}

/** Every item, nested subagent items included. */
function* walk(items: readonly ConversationItem[]): Generator<ConversationItem> {
  for (const item of items) {
    yield item;
    if (item.type === "tool" && item.children) yield* walk(item.children);
  }
}

export function editDiffKey(session: string | undefined, turn: number | undefined, uri: string): string {
  return `${session ?? "?"}:${turn ?? "?"}:${uri}`;
}

export class Conversation {
  private turns: TurnView[] = [];
  private nextLocalId = 1;
  /** A prompt the user sent whose session/turn the server has not told us yet. */
  private awaitingServerTurn: TurnView | undefined;
  lastSession: string | undefined;

  get view(): readonly TurnView[] {
    return this.turns;
  }

  get busy(): boolean {
    return this.turns.some((turn) => turn.running);
  }

  /** The user asked something: show it at once, before the server answers. */
  startLocalTurn(prompt: string): TurnView {
    const turn: TurnView = {
      key: `local-${this.nextLocalId++}`,
      items: [{ type: "user", text: prompt }],
      running: true,
    };
    this.push(turn);
    this.awaitingServerTurn = turn;
    return turn;
  }

  apply(event: ClawEvent): void {
    if (typeof event?.kind !== "string") return;
    // A subagent's events name its own session; they belong to the parent's turn.
    const parent = event.parent && typeof event.parent === "object" ? (event.parent as Record<string, unknown>) : undefined;
    const turn = parent
      ? this.turnFor(asString(parent.session, asString(event.session)), Number(parent.turn ?? event.turn))
      : this.turnFor(asString(event.session), Number(event.turn));
    if (!parent) this.lastSession = turn.session ?? this.lastSession;
    const target = this.itemsFor(turn, parent);
    switch (event.kind) {
      case "text":
        this.appendText(target, asString(event.delta));
        break;
      case "toolCall":
        target.push({
          type: "tool",
          id: asString(event.id),
          name: asString(event.name, "tool"),
          argumentsText: argumentsAsText(event.arguments),
          status: "running",
        });
        break;
      case "toolResult": {
        const tool = this.findTool(target, asString(event.id));
        const ok = event.ok !== false;
        if (tool) {
          tool.status = ok ? "ok" : "failed";
          tool.summary = asString(event.summary);
        } else {
          target.push({
            type: "tool",
            id: asString(event.id),
            name: "tool",
            argumentsText: "",
            status: ok ? "ok" : "failed",
            summary: asString(event.summary),
          });
        }
        break;
      }
      case "edit": {
        const uri = asString(event.uri);
        target.push({
          type: "edit",
          uri,
          applied: event.applied !== false,
          diffKey: editDiffKey(turn.session, turn.turn, uri),
        });
        break;
      }
      case "proposal":
        target.push({
          type: "proposal",
          proposal: asString(event.proposal),
          uri: asString(event.uri),
          diff: asString(event.diff),
          state: "pending",
        });
        break;
      case "approval": {
        const detail = asString(event.command) || asString(event.path) || asString(event.detail);
        target.push({
          type: "approval",
          tool: asString(event.tool, "tool"),
          decision: asString(event.decision, "unknown"),
          ...(detail ? { detail } : {}),
        });
        break;
      }
      case "unsaved": {
        const uris = Array.isArray(event.uris) ? event.uris.filter((u): u is string => typeof u === "string") : [];
        target.push({ type: "unsaved", uris });
        break;
      }
      case "error":
        target.push({ type: "error", message: asString(event.message, "unknown error") });
        break;
      case "attachment":
        target.push({
          type: "attachment",
          kind: asString(event.type, "file"),
          name: asString(event.name),
          ...(typeof event.chars === "number" ? { chars: event.chars } : {}),
        });
        break;
      case "notice":
        if (asString(event.message)) target.push({ type: "notice", text: asString(event.message) });
        break;
      case "todo":
        if (event.parent === undefined) turn.todos = parseTodos(event.todos);
        break;
      case "plan":
        if (asString(event.plan)) this.showPlan(turn, asString(event.plan));
        break;
      case "done":
        if (event.parent !== undefined) break; // a subagent finished; its parent turn goes on
        turn.running = false;
        turn.stopReason = asString(event.stopReason, "done");
        break;
      default:
        // Newer servers may send kinds this client does not know; ignoring them keeps the view usable.
        break;
    }
  }

  /** The `claw.ask` request returned: close its turn even if no `done` event came. */
  finishAsk(localTurn: TurnView, result: AskResult): void {
    const turn = this.resolveLocal(localTurn, result.session, result.turn);
    if (result.session) this.lastSession = result.session;
    const hasAssistantText = turn.items.some((item) => item.type === "assistant");
    if (!hasAssistantText && result.text && !result.plan) this.appendText(turn.items, result.text);
    if (result.plan) this.showPlan(turn, result.plan);
    if (turn.running) {
      turn.running = false;
      turn.stopReason = result.stopReason ?? turn.stopReason ?? "done";
    }
  }

  failAsk(localTurn: TurnView, message: string): void {
    const turn = this.resolveLocal(localTurn, undefined, undefined);
    turn.items.push({ type: "error", message });
    turn.running = false;
    turn.stopReason = turn.stopReason ?? "error";
  }

  setProposalState(proposal: string, state: ProposalState): boolean {
    let found = false;
    for (const turn of this.turns) {
      for (const item of turn.items) {
        if (item.type === "proposal" && item.proposal === proposal) {
          item.state = state;
          found = true;
        }
      }
    }
    return found;
  }

  pendingProposals(): Array<{ proposal: string; uri: string; diff: string }> {
    const pending: Array<{ proposal: string; uri: string; diff: string }> = [];
    for (const turn of this.turns) {
      for (const item of turn.items) {
        if (item.type === "proposal" && item.state === "pending") {
          pending.push({ proposal: item.proposal, uri: item.uri, diff: item.diff });
        }
      }
    }
    return pending;
  }

  addNotice(text: string): void {
    this.push({ key: `local-${this.nextLocalId++}`, items: [{ type: "notice", text }], running: false });
  }

  clear(): void {
    this.turns = [];
    this.awaitingServerTurn = undefined;
  }

  private resolveLocal(localTurn: TurnView, session: string | undefined, turnNumber: number | undefined): TurnView {
    if (this.awaitingServerTurn === localTurn) this.awaitingServerTurn = undefined;
    if (localTurn.session === undefined && session !== undefined && turnNumber !== undefined) {
      // No event arrived for this turn (e.g. a slash command): adopt the server's identity now.
      const existing = this.turns.find((t) => t.session === session && t.turn === turnNumber);
      if (existing && existing !== localTurn) return existing;
      localTurn.session = session;
      localTurn.turn = turnNumber;
    }
    return localTurn;
  }

  private turnFor(session: string, turnNumber: number): TurnView {
    const existing = this.turns.find((t) => t.session === session && t.turn === turnNumber);
    if (existing) return existing;
    const waiting = this.awaitingServerTurn;
    if (waiting && waiting.session === undefined) {
      waiting.session = session;
      waiting.turn = turnNumber;
      this.awaitingServerTurn = undefined;
      return waiting;
    }
    // A turn the user did not start from this view (a code action, another client command).
    const turn: TurnView = { key: `${session}:${turnNumber}`, session, turn: turnNumber, items: [], running: true };
    this.push(turn);
    return turn;
  }

  /** Attaches the text diff of an applied edit (computed by the extension from its snapshot). */
  setEditDiff(diffKey: string, diff: string): boolean {
    let latest: Extract<ConversationItem, { type: "edit" }> | undefined;
    for (const turn of this.turns) for (const item of walk(turn.items)) if (item.type === "edit" && item.diffKey === diffKey) latest = item;
    if (latest) latest.diff = diff;
    return latest !== undefined;
  }

  markUndone(session: string, turn: number): void {
    for (const view of this.turns) if (view.session === session && view.turn === turn) view.undone = true;
  }

  /** The plan the user accepted or moved on from no longer offers its buttons. */
  settlePlans(state: "accepted" | "superseded"): void {
    for (const turn of this.turns) for (const item of turn.items) if (item.type === "plan" && item.state === "proposed") item.state = state;
  }

  private showPlan(turn: TurnView, plan: string): void {
    const existing = turn.items.find((item): item is Extract<ConversationItem, { type: "plan" }> => item.type === "plan");
    if (existing) existing.plan = plan;
    else turn.items.push({ type: "plan", plan, state: "proposed" });
  }

  /** Where an event's items go: the turn, or the subagent call (`parent.callId`) it belongs to. */
  private itemsFor(turn: TurnView, parent: unknown): ConversationItem[] {
    const callId = parent && typeof parent === "object" ? asString((parent as Record<string, unknown>).callId) : "";
    if (!callId) return turn.items;
    for (const item of walk(turn.items)) {
      if (item.type === "tool" && item.id === callId) return (item.children ??= []);
    }
    return turn.items;
  }

  private appendText(items: ConversationItem[], delta: string): void {
    if (!delta) return;
    const last = items[items.length - 1];
    if (last?.type === "assistant") last.markdown += delta;
    else items.push({ type: "assistant", markdown: delta });
  }

  private findTool(items: ConversationItem[], id: string): Extract<ConversationItem, { type: "tool" }> | undefined {
    for (const item of items) if (item.type === "tool" && item.id === id) return item;
    return undefined;
  }

  private push(turn: TurnView): void {
    this.turns.push(turn);
    if (this.turns.length > MAX_TURNS_KEPT) this.turns.splice(0, this.turns.length - MAX_TURNS_KEPT);
  }
}
