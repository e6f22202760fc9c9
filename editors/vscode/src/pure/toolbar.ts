// What the toolbar above the chat input shows: tier, mode, model, busy and the context meter.
// Pure, so the meter's thresholds are unit-tested.

export interface ToolbarState {
  busy: boolean;
  tier?: string;
  /** Tiers offered in the picker: `unsafe` only when the user's own settings allow it. */
  tiers: string[];
  model?: string;
  models: string[];
  contextTokens?: number;
  contextWindow?: number;
  compactThreshold?: number;
  sendWith: "enter" | "ctrlEnter";
}

export interface MeterReading {
  short: string;
  label: string;
  warn: boolean;
}

const DEFAULT_COMPACT_THRESHOLD = 0.8;
/** Warn this far before the server compacts on its own. */
const WARN_MARGIN = 0.1;

function compactTokens(tokens: number): string {
  return tokens >= 1000 ? `${(tokens / 1000).toFixed(tokens >= 10_000 ? 0 : 1)}k` : String(tokens);
}

/** The meter's text, or undefined when the window is unknown. */
export function contextMeter(state: Pick<ToolbarState, "contextTokens" | "contextWindow" | "compactThreshold">): MeterReading | undefined {
  const { contextTokens, contextWindow } = state;
  if (typeof contextTokens !== "number" || typeof contextWindow !== "number" || contextWindow <= 0) return undefined;
  const share = contextTokens / contextWindow;
  const threshold = state.compactThreshold ?? DEFAULT_COMPACT_THRESHOLD;
  const percent = Math.round(share * 100);
  const warn = share >= threshold - WARN_MARGIN;
  return {
    short: `${compactTokens(contextTokens)}/${compactTokens(contextWindow)} (${percent}%)`,
    label: `Context: ${contextTokens} of ${contextWindow} tokens used (${percent}%)${warn ? "; close to the compaction threshold" : ""}`,
    warn,
  };
}

/** The tier picker's entries: `unsafe` only when the user's settings name it. */
export function offeredTiers(allTiers: readonly string[], userTier: string | undefined, allowUnsafe: boolean): string[] {
  return allTiers.filter((tier) => tier !== "unsafe" || allowUnsafe || userTier === "unsafe");
}
