/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Webview side of the Claw conversation view: the transcript (HTML the extension renders), the
// chat input with its `/` and `@` completion, attachment chips and history, and the toolbar.
// Bundled by esbuild into dist/webview.js. No inline handlers (the CSP forbids them).
import {
  type Chip,
  type CompletionItem,
  type CompletionToken,
  completionTokenAt,
  composePrompt,
  keySends,
  pasteBecomesChip,
  pasteChip,
  PromptHistory,
  removeToken,
  replaceToken,
} from "../pure/composer";
import type { ToolbarState } from "../pure/toolbar";
import { PlanEdits } from "./planEditor";
import { renderToolbar } from "./toolbarView";

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  open?: string[];
  history?: string[];
  draft?: string;
}

const vscode = acquireVsCodeApi();
const saved = (vscode.getState() ?? {}) as SavedState;
const openKeys = new Set(Array.isArray(saved.open) ? saved.open : []);
const history = new PromptHistory(Array.isArray(saved.history) ? saved.history : []);

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const root = byId<HTMLElement>("conversation");
const input = byId<HTMLTextAreaElement>("prompt");
const chipsBox = byId<HTMLElement>("chips");
const popup = byId<HTMLElement>("completions");
const modeSelect = byId<HTMLSelectElement>("mode");
const tierSelect = byId<HTMLSelectElement>("tier");
const modelSelect = byId<HTMLSelectElement>("model");
const meter = byId<HTMLElement>("context-meter");
const stopButton = byId<HTMLButtonElement>("stop");
const sendButton = byId<HTMLButtonElement>("send");

let chips: Chip[] = [];
let sendWith: "enter" | "ctrlEnter" = "enter";
let busy = false;
let completion: { token: CompletionToken; items: CompletionItem[]; active: number } | undefined;
let completionRequest = 0;
const planEdits = new PlanEdits();
input.value = typeof saved.draft === "string" ? saved.draft : "";

function saveState(): void {
  vscode.setState({ open: Array.from(openKeys), history: [...history.all], draft: input.value } satisfies SavedState);
}

// ── transcript ─────────────────────────────────────────────────────────────────────────────
function renderTranscript(html: string): void {
  const scroller = root;
  const followStream = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  root.innerHTML = html;
  for (const details of root.querySelectorAll<HTMLDetailsElement>("details[data-key]")) {
    if (openKeys.has(details.dataset.key ?? "")) details.open = true;
  }
  planEdits.restore(root);
  if (followStream) scroller.scrollTop = scroller.scrollHeight;
}

root.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.dataset.key) return;
    if (details.open) openKeys.add(details.dataset.key);
    else openKeys.delete(details.dataset.key);
    saveState();
  },
  true,
);

root.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>("[data-action]") : null;
  if (!target) return;
  event.preventDefault();
  const action = target.dataset.action;
  if (action === "editPlan") {
    // Edit: the plan becomes editable in place; Accept then carries out the edited text.
    const block = target.closest<HTMLElement>(".item.plan");
    if (block) planEdits.start(block, target.dataset.plan ?? "");
    return;
  }
  const editedPlan = planEdits.settle(target, action);
  // An accepted plan is carried out: the next message is an ordinary ask again (as in Neovim).
  if (action === "acceptPlan") modeSelect.value = "ask";
  if (target instanceof HTMLButtonElement && target.dataset.keep !== "enabled") target.disabled = true;
  vscode.postMessage({ ...target.dataset, action, ...(editedPlan !== undefined ? { plan: editedPlan } : {}) });
  if (target instanceof HTMLButtonElement && target.dataset.keep === "enabled") {
    const label = target.textContent;
    target.textContent = "Done";
    setTimeout(() => (target.textContent = label), 1200);
  }
});

// ── chips ──────────────────────────────────────────────────────────────────────────────────
function renderChips(): void {
  chipsBox.replaceChildren(
    ...chips.map((chip, index) => {
      const element = document.createElement("span");
      element.className = `chip chip-${chip.kind}`;
      element.setAttribute("role", "listitem");
      element.textContent = chip.label;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Remove attachment ${chip.label}`);
      remove.addEventListener("click", () => {
        chips.splice(index, 1);
        renderChips();
        input.focus();
      });
      element.append(remove);
      return element;
    }),
  );
  chipsBox.hidden = chips.length === 0;
}

function addChip(chip: Chip): void {
  const duplicate = chips.some((other) => other.kind === chip.kind && other.label === chip.label);
  if (!duplicate) chips.push(chip);
  renderChips();
}

// ── completion ─────────────────────────────────────────────────────────────────────────────
function closeCompletion(): void {
  completion = undefined;
  popup.hidden = true;
  popup.replaceChildren();
  input.removeAttribute("aria-activedescendant");
  input.setAttribute("aria-expanded", "false");
}

function renderCompletion(): void {
  if (!completion || completion.items.length === 0) {
    closeCompletion();
    return;
  }
  const current = completion;
  popup.replaceChildren(
    ...current.items.map((item, index) => {
      const row = document.createElement("div");
      row.id = `completion-${index}`;
      row.className = `completion${index === current.active ? " active" : ""}`;
      row.setAttribute("role", "option");
      row.setAttribute("aria-selected", String(index === current.active));
      const label = document.createElement("span");
      label.className = "completion-label";
      label.textContent = item.label;
      row.append(label);
      if (item.detail) {
        const detail = document.createElement("span");
        detail.className = "completion-detail";
        detail.textContent = item.detail;
        row.append(detail);
      }
      row.addEventListener("mousedown", (event) => {
        event.preventDefault();
        current.active = index;
        acceptCompletion();
      });
      return row;
    }),
  );
  popup.hidden = false;
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-activedescendant", `completion-${current.active}`);
  popup.querySelector(".completion.active")?.scrollIntoView({ block: "nearest" });
}

function updateCompletion(): void {
  const token = completionTokenAt(input.value, input.selectionStart ?? input.value.length);
  if (!token) {
    closeCompletion();
    return;
  }
  const requestId = ++completionRequest;
  vscode.postMessage({ action: "complete", trigger: token.trigger, query: token.query, requestId });
  completion = completion && completion.token.trigger === token.trigger ? { ...completion, token } : undefined;
}

function acceptCompletion(): void {
  if (!completion) return;
  const item = completion.items[completion.active];
  const token = completion.token;
  closeCompletion();
  if (!item) return;
  if (token.trigger === "@" && !item.insert.endsWith("/")) {
    const next = removeToken(input.value, token);
    input.value = next.text;
    input.setSelectionRange(next.caret, next.caret);
    addChip({ kind: "mention", name: item.insert, label: `@${item.insert}` });
  } else {
    // A command, or a directory to complete further into.
    const insert = token.trigger === "@" ? `@${item.insert}` : item.insert;
    const next = replaceToken(input.value, token, insert);
    input.value = next.text;
    input.setSelectionRange(next.caret, next.caret);
    if (token.trigger === "@") updateCompletion();
  }
  autosize();
  saveState();
}

// ── sending ────────────────────────────────────────────────────────────────────────────────
function send(): void {
  const text = input.value;
  if (!text.trim() && chips.length === 0) return;
  if (busy) {
    vscode.postMessage({ action: "busyNotice" });
    return;
  }
  const composed = composePrompt(text, chips);
  history.add(text.trim() || composed.prompt);
  vscode.postMessage({ action: "send", prompt: composed.prompt, selection: composed.selection, mode: modeSelect.value });
  input.value = "";
  chips = [];
  renderChips();
  closeCompletion();
  autosize();
  saveState();
}

function autosize(): void {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
}

function caretOnFirstLine(): boolean {
  return !input.value.slice(0, input.selectionStart ?? 0).includes("\n");
}

function caretOnLastLine(): boolean {
  return !input.value.slice(input.selectionEnd ?? 0).includes("\n");
}

input.addEventListener("keydown", (event) => {
  if (completion && completion.items.length > 0) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      completion.active = (completion.active + step + completion.items.length) % completion.items.length;
      renderCompletion();
      return;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      acceptCompletion();
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      closeCompletion();
      return;
    }
  }
  if (keySends(event, sendWith)) {
    event.preventDefault();
    send();
    return;
  }
  if (event.key === "ArrowUp" && caretOnFirstLine() && !event.shiftKey) {
    const previous = history.previous(input.value);
    if (previous !== undefined) {
      event.preventDefault();
      input.value = previous;
      input.setSelectionRange(0, 0);
      autosize();
    }
    return;
  }
  if (event.key === "ArrowDown" && caretOnLastLine() && !event.shiftKey) {
    const next = history.next();
    if (next !== undefined) {
      event.preventDefault();
      input.value = next;
      input.setSelectionRange(next.length, next.length);
      autosize();
    }
    return;
  }
  if (event.key === "Escape" && busy) {
    vscode.postMessage({ action: "stop" });
  }
});

input.addEventListener("input", () => {
  autosize();
  updateCompletion();
  saveState();
});
input.addEventListener("blur", () => setTimeout(closeCompletion, 150));
input.addEventListener("paste", (event) => {
  const text = event.clipboardData?.getData("text/plain") ?? "";
  if (!pasteBecomesChip(text)) return;
  event.preventDefault();
  addChip(pasteChip(text));
});

sendButton.addEventListener("click", send);
stopButton.addEventListener("click", () => vscode.postMessage({ action: "stop" }));
for (const id of ["new-session", "sessions"]) {
  byId<HTMLButtonElement>(id).addEventListener("click", () => vscode.postMessage({ action: id === "sessions" ? "sessions" : "newSession" }));
}
tierSelect.addEventListener("change", () => vscode.postMessage({ action: "setTier", tier: tierSelect.value }));
modelSelect.addEventListener("change", () => {
  if (modelSelect.value) vscode.postMessage({ action: "setModel", model: modelSelect.value });
});
modelSelect.addEventListener("focus", () => vscode.postMessage({ action: "listModels" }));
meter.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>("[data-action]") : null;
  if (target) vscode.postMessage({ action: target.dataset.action });
});

// ── toolbar state ──────────────────────────────────────────────────────────────────────────
function applyToolbar(state: ToolbarState): void {
  busy = state.busy;
  sendWith = state.sendWith;
  renderToolbar(state, { stopButton, sendButton, tierSelect, modelSelect, meter, input });
}

window.addEventListener("message", (event: MessageEvent) => {
  const message = event.data as Record<string, unknown> | undefined;
  if (!message || typeof message.type !== "string") return;
  switch (message.type) {
    case "render":
      if (typeof message.html === "string") renderTranscript(message.html);
      break;
    case "toolbar":
      applyToolbar(message.state as ToolbarState);
      break;
    case "completions": {
      if (message.requestId !== completionRequest) return; // a stale answer to an earlier keystroke
      const token = completionTokenAt(input.value, input.selectionStart ?? input.value.length);
      if (!token) return closeCompletion();
      completion = { token, items: (message.items as CompletionItem[]) ?? [], active: 0 };
      renderCompletion();
      break;
    }
    case "addChip":
      addChip(message.chip as Chip);
      input.focus();
      break;
    case "focusInput":
      if (typeof message.text === "string") {
        input.value = message.text;
        autosize();
      }
      input.focus();
      break;
    default:
      break;
  }
});

renderChips();
autosize();
vscode.postMessage({ action: "ready" });
