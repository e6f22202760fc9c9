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
    }
  | { type: "edit"; uri: string; applied: boolean; diffKey: string }
  | { type: "proposal"; proposal: string; uri: string; diff: string; state: ProposalState }
  | { type: "approval"; tool: string; decision: string; detail?: string }
  | { type: "unsaved"; uris: string[] }
  | { type: "error"; message: string }
  | { type: "notice"; text: string };

export interface TurnView {
  /** Stable id for the view (used to keep collapsed/expanded state across renders). */
  key: string;
  session?: string;
  turn?: number;
  items: ConversationItem[];
  running: boolean;
  stopReason?: string;
}

/** The finished `claw.ask` result, as far as the view cares. */
export interface AskResult {
  session?: string;
  turn?: number;
  text?: string;
  stopReason?: string;
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
    const turn = this.turnFor(asString(event.session), Number(event.turn));
    this.lastSession = turn.session ?? this.lastSession;
    switch (event.kind) {
      case "text":
        this.appendText(turn, asString(event.delta));
        break;
      case "toolCall":
        turn.items.push({
          type: "tool",
          id: asString(event.id),
          name: asString(event.name, "tool"),
          argumentsText: argumentsAsText(event.arguments),
          status: "running",
        });
        break;
      case "toolResult": {
        const tool = this.findTool(turn, asString(event.id));
        const ok = event.ok !== false;
        if (tool) {
          tool.status = ok ? "ok" : "failed";
          tool.summary = asString(event.summary);
        } else {
          turn.items.push({
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
        turn.items.push({
          type: "edit",
          uri,
          applied: event.applied !== false,
          diffKey: editDiffKey(turn.session, turn.turn, uri),
        });
        break;
      }
      case "proposal":
        turn.items.push({
          type: "proposal",
          proposal: asString(event.proposal),
          uri: asString(event.uri),
          diff: asString(event.diff),
          state: "pending",
        });
        break;
      case "approval": {
        const detail = asString(event.command) || asString(event.path) || asString(event.detail);
        turn.items.push({
          type: "approval",
          tool: asString(event.tool, "tool"),
          decision: asString(event.decision, "unknown"),
          ...(detail ? { detail } : {}),
        });
        break;
      }
      case "unsaved": {
        const uris = Array.isArray(event.uris) ? event.uris.filter((u): u is string => typeof u === "string") : [];
        turn.items.push({ type: "unsaved", uris });
        break;
      }
      case "error":
        turn.items.push({ type: "error", message: asString(event.message, "unknown error") });
        break;
      case "done":
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
    if (!hasAssistantText && result.text) this.appendText(turn, result.text);
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

  private appendText(turn: TurnView, delta: string): void {
    if (!delta) return;
    const last = turn.items[turn.items.length - 1];
    if (last?.type === "assistant") last.markdown += delta;
    else turn.items.push({ type: "assistant", markdown: delta });
  }

  private findTool(turn: TurnView, id: string): Extract<ConversationItem, { type: "tool" }> | undefined {
    for (const item of turn.items) if (item.type === "tool" && item.id === id) return item;
    return undefined;
  }

  private push(turn: TurnView): void {
    this.turns.push(turn);
    if (this.turns.length > MAX_TURNS_KEPT) this.turns.splice(0, this.turns.length - MAX_TURNS_KEPT);
  }
}
