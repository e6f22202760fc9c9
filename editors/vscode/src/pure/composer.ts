// The chat input's logic, free of the DOM so node's test runner covers it: which completion the
// caret is in (`/command` at the start, `@mention` after a space), what accepting an item does to
// the text, prompt history (Up/Down), the Enter-sends rule and how chips become the prompt.

export type CompletionTrigger = "/" | "@";

export interface CompletionToken {
  trigger: CompletionTrigger;
  /** What the user typed after the trigger, up to the caret. */
  query: string;
  /** Offset of the trigger character in the text. */
  start: number;
  /** Offset just after the token (the caret). */
  end: number;
}

/** An attachment shown above the input until the prompt is sent. */
export type Chip =
  | { kind: "mention"; name: string; label: string }
  | { kind: "selection"; label: string; uri: string; range: unknown }
  | { kind: "paste"; label: string; text: string };

/** Pastes longer than this (characters) or with more lines become a chip instead of text. */
export const PASTE_CHIP_CHARS = 2000;
export const PASTE_CHIP_LINES = 30;
const MAX_HISTORY = 100;

/** The `/` or `@` token that ends at the caret, if any. */
export function completionTokenAt(text: string, caret: number): CompletionToken | undefined {
  const before = text.slice(0, caret);
  // A slash command is only a command at the very start of the prompt (the server's rule).
  const command = /^\/([\w:.-]*)$/.exec(before);
  if (command) return { trigger: "/", query: command[1], start: 0, end: caret };
  const mention = /(^|\s)@([^\s@]*)$/.exec(before);
  if (mention) {
    const start = caret - mention[2].length - 1;
    return { trigger: "@", query: mention[2], start, end: caret };
  }
  return undefined;
}

/** The text after accepting a completion: the token replaced (with a trailing space) and the caret after it. */
export function replaceToken(text: string, token: CompletionToken, insert: string): { text: string; caret: number } {
  const rest = text.slice(token.end);
  const spaced = rest.startsWith(" ") || insert.endsWith("/") ? insert : `${insert} `;
  return { text: text.slice(0, token.start) + spaced + rest, caret: token.start + spaced.length };
}

/** The text with a token removed (an accepted `@` completion becomes a chip instead). */
export function removeToken(text: string, token: CompletionToken): { text: string; caret: number } {
  const rest = text.slice(token.end).replace(/^ /, "");
  return { text: text.slice(0, token.start) + rest, caret: token.start };
}

/** Whether a key press sends the prompt. `sendWith` is the user's setting. */
export function keySends(
  key: { key: string; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; isComposing?: boolean },
  sendWith: "enter" | "ctrlEnter",
): boolean {
  if (key.key !== "Enter" || key.isComposing) return false;
  if (sendWith === "ctrlEnter") return key.ctrlKey || key.metaKey;
  return !key.shiftKey && !key.ctrlKey && !key.metaKey;
}

export function pasteBecomesChip(text: string): boolean {
  return text.length > PASTE_CHIP_CHARS || text.split("\n").length > PASTE_CHIP_LINES;
}

export function pasteChip(text: string): Chip {
  const lines = text.split("\n").length;
  return { kind: "paste", label: `Pasted text (${lines} lines)`, text };
}

export interface ComposedPrompt {
  prompt: string;
  /** The selection chip's document and range, sent as the turn's editor context. */
  selection?: { uri: string; range: unknown };
}

/** The prompt the server gets: the typed text, then each mention, the selection and pasted blocks. */
export function composePrompt(text: string, chips: readonly Chip[]): ComposedPrompt {
  const parts = [text.trim()];
  const mentions = chips.filter((chip) => chip.kind === "mention").map((chip) => `@${chip.name}`);
  const selection = chips.find((chip): chip is Extract<Chip, { kind: "selection" }> => chip.kind === "selection");
  if (selection) mentions.push("@selection");
  if (mentions.length > 0) parts.push(mentions.join(" "));
  for (const chip of chips) {
    if (chip.kind !== "paste") continue;
    const fence = chip.text.includes("```") ? "````" : "```";
    parts.push(`${fence}\n${chip.text.replace(/\n$/, "")}\n${fence}`);
  }
  const prompt = parts.filter((part) => part !== "").join("\n\n");
  return selection ? { prompt, selection: { uri: selection.uri, range: selection.range } } : { prompt };
}

/** Earlier prompts, newest last; Up/Down walk it like a shell, keeping the draft being typed. */
export class PromptHistory {
  private entries: string[];
  private position: number;
  private draft = "";

  constructor(entries: readonly string[] = []) {
    this.entries = entries.slice(-MAX_HISTORY);
    this.position = this.entries.length;
  }

  get all(): readonly string[] {
    return this.entries;
  }

  add(prompt: string): void {
    if (prompt.trim() && this.entries[this.entries.length - 1] !== prompt) this.entries.push(prompt);
    if (this.entries.length > MAX_HISTORY) this.entries.shift();
    this.position = this.entries.length;
    this.draft = "";
  }

  /** The prompt before the shown one, or undefined at the oldest. */
  previous(current: string): string | undefined {
    if (this.position === 0) return undefined;
    if (this.position === this.entries.length) this.draft = current;
    this.position -= 1;
    return this.entries[this.position];
  }

  /** The next newer prompt, the draft after the newest, or undefined when already at the draft. */
  next(): string | undefined {
    if (this.position >= this.entries.length) return undefined;
    this.position += 1;
    return this.position === this.entries.length ? this.draft : this.entries[this.position];
  }
}

export interface CommandInfo {
  name: string;
  description?: string;
  argumentHint?: string;
  source?: string;
}

export interface CompletionItem {
  /** What the list shows. */
  label: string;
  /** What accepting it inserts (a command) or attaches (a mention name). */
  insert: string;
  detail?: string;
}

/** Slash commands whose name starts with (then contains) the query, best first. */
export function filterCommands(commands: readonly CommandInfo[], query: string, limit = 30): CompletionItem[] {
  const wanted = query.toLowerCase();
  const starts = commands.filter((command) => command.name.toLowerCase().startsWith(wanted));
  const contains = commands.filter(
    (command) => !command.name.toLowerCase().startsWith(wanted) && command.name.toLowerCase().includes(wanted),
  );
  return [...starts, ...contains].slice(0, limit).map((command) => ({
    label: `/${command.name}${command.argumentHint ? ` ${command.argumentHint}` : ""}`,
    insert: `/${command.name}`,
    detail: [command.description, command.source].filter(Boolean).join(" · "),
  }));
}

/** `claw.completeMentions` items as list entries (the server already ranked them). */
export function mentionItems(items: unknown): CompletionItem[] {
  if (!Array.isArray(items)) return [];
  const out: CompletionItem[] = [];
  for (const item of items) {
    if (!item || typeof item !== "object") continue;
    const record = item as Record<string, unknown>;
    const name = typeof record.name === "string" ? record.name : typeof record.label === "string" ? record.label.replace(/^@/, "") : "";
    if (!name) continue;
    const label = typeof record.label === "string" ? record.label : `@${name}`;
    const detail = [record.kind, record.detail].filter((part) => typeof part === "string" && part).join(" · ");
    out.push({ label, insert: name, detail });
  }
  return out;
}
