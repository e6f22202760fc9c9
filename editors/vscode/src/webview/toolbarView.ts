/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The toolbar's elements from a ToolbarState: busy (Stop shown, Send disabled), the tier and
// model pickers, the context meter (with Compact near the threshold) and the input's hint.
import { contextMeter, type ToolbarState } from "../pure/toolbar";

export interface ToolbarElements {
  stopButton: HTMLButtonElement;
  sendButton: HTMLButtonElement;
  tierSelect: HTMLSelectElement;
  modelSelect: HTMLSelectElement;
  meter: HTMLElement;
  input: HTMLTextAreaElement;
}

function fillSelect(select: HTMLSelectElement, values: readonly string[], current: string | undefined): void {
  const existing = Array.from(select.options).map((option) => option.value);
  if (existing.join("\n") !== values.join("\n")) {
    select.replaceChildren(
      ...values.map((value) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value || "(server default)";
        return option;
      }),
    );
  }
  if (current !== undefined && values.includes(current)) select.value = current;
}

export function renderToolbar(state: ToolbarState, elements: ToolbarElements): void {
  const { stopButton, sendButton, tierSelect, modelSelect, meter, input } = elements;
  stopButton.hidden = !state.busy;
  sendButton.disabled = state.busy;
  fillSelect(tierSelect, state.tiers, state.tier);
  fillSelect(modelSelect, state.models.length > 0 ? state.models : [state.model ?? ""], state.model ?? "");
  const reading = contextMeter(state);
  meter.hidden = reading === undefined;
  if (reading) {
    meter.className = `context-meter${reading.warn ? " warn" : ""}`;
    meter.setAttribute("aria-label", reading.label);
    meter.title = reading.label;
    meter.replaceChildren();
    const text = document.createElement("span");
    text.textContent = reading.short;
    meter.append(text);
    if (reading.warn) {
      const compact = document.createElement("button");
      compact.type = "button";
      compact.className = "secondary";
      compact.dataset.action = "compact";
      compact.textContent = "Compact";
      compact.setAttribute("aria-label", "Compact the conversation to free context");
      meter.append(compact);
    }
  }
  input.placeholder = state.sendWith === "enter" ? "Ask Claw — / commands, @ files · Enter sends, Shift+Enter new line" : "Ask Claw — / commands, @ files · Ctrl+Enter sends";
}

