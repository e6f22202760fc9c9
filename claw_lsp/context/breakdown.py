"""What the next request of a session would contain, by category (`/context`).

Every number is counted on the wire form the loop sends (see tokens.py), so the categories add
up to the size of the request itself: instruction files and editor context are measured where
they sit, inside user messages, and the history is the rest of the messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claw_lsp.context.mentions import ATTACHMENT_FRAMES
from claw_lsp.context.rules_files import NESTED_RULES_PREAMBLE, RULES_PREAMBLE
from claw_lsp.context.tokens import ContextStats, WindowInfo, json_chars, resolve_window
from claw_lsp.foundation.messages import wire_message
from claw_lsp.llm.text_mode import text_mode_messages, text_mode_system_prompt

_RULES_BLOCK = re.compile(
    "(?:"
    + re.escape(RULES_PREAMBLE)
    + "|"
    + re.escape(NESTED_RULES_PREAMBLE)
    + r')?\s*(?:<instructions-file path="[^"]*" scope="[^"]*">\n.*?</instructions-file>\s*)+',
    re.S,
)
_EDITOR_BLOCK = re.compile(r"<editor-context>.*?</editor-context>", re.S)
# The language servers' diagnostics inside an editor context (issue 16): their own row.
_DIAGNOSTICS_PART = re.compile(r"\nDiagnostics:\n(?:  [^\n]*\n)*")


@dataclass(frozen=True)
class Breakdown:
    rows: list[tuple[str, int]]  # (category, characters)
    total_chars: int
    window: WindowInfo
    stats: ContextStats

    def tokens(self, chars: int) -> int:
        return self.stats.tokens(chars)


def context_breakdown(
    system_prompt: str,
    tools: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    *,
    stats: ContextStats,
    configured_window: int | None,
    pending_rules: str = "",
) -> Breakdown:
    """Sizes of the next request; `pending_rules` are files the next user message would add."""
    if stats.text_mode:
        system = {"role": "system", "content": text_mode_system_prompt(system_prompt, tools)}
        tools_chars = 0
        wire = text_mode_messages([wire_message(m) for m in messages])
    else:
        system = {"role": "system", "content": system_prompt}
        tools_chars = json_chars(list(tools)) if tools else 0
        wire = [wire_message(m) for m in messages]
    rules = editor = diagnostics = attached = history = 0
    for message in wire:
        size = json_chars(message)
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            in_rules = sum(_encoded(m.group(0).rstrip()) for m in _RULES_BLOCK.finditer(content))
            blocks = [m.group(0) for m in _EDITOR_BLOCK.finditer(content)]
            in_editor = sum(_encoded(block) for block in blocks)
            in_diagnostics = sum(
                _encoded(part.group(0))
                for block in blocks
                for part in _DIAGNOSTICS_PART.finditer(block)
            )
            rules, editor = rules + in_rules, editor + in_editor - in_diagnostics
            diagnostics += in_diagnostics
            in_attached = sum(_encoded(m.group(0)) for m in ATTACHMENT_FRAMES.finditer(content))
            attached += in_attached
            size -= in_rules + in_editor + in_attached
        history += size
    pending = _encoded(pending_rules) if pending_rules else 0
    rows = [
        ("system prompt", json_chars(system)),
        ("tool schemas", tools_chars),
        ("rules files", rules),
        ("rules files (next message)", pending),
        ("editor context", editor),
        ("diagnostics (editor context)", diagnostics),
        ("attachments (@-mentions)", attached),
        ("history", history),
    ]
    optional = (
        "rules files (next message)",
        "diagnostics (editor context)",
        "attachments (@-mentions)",
    )
    rows = [row for row in rows if row[1] or row[0] not in optional]
    window = resolve_window(configured_window, stats)
    return Breakdown(rows, sum(n for _, n in rows), window, stats)


def render_breakdown(breakdown: Breakdown, *, threshold: float, session: str | None) -> str:
    stats = breakdown.stats
    margin = round(stats.error_margin() * 100)
    if stats.chars_per_token:
        basis = (
            f"{stats.chars_per_token:.2f} characters a token, calibrated on the backend's "
            f"reported usage (+/- {margin}%)"
        )
    else:
        basis = f"{stats.ratio():.0f} characters a token, not yet calibrated (+/- {margin}%)"
    lines = [f"Context of the next request{f' in session {session}' if session else ''}:"]
    for label, chars in breakdown.rows:
        lines.append(f"  {label:<28}{breakdown.tokens(chars):>8} tokens {chars:>10} chars")
    total = breakdown.tokens(breakdown.total_chars)
    window = breakdown.window
    lines.append(f"  {'total':<28}{total:>8} tokens {breakdown.total_chars:>10} chars")
    lines.append(
        f"Window: {window.tokens} tokens ({window.source}); {100 * total // window.tokens}% used; "
        f"compaction at {round(threshold * 100)}% ({int(threshold * window.tokens)} tokens)."
    )
    lines.append(f"Estimate: {basis}.")
    if stats.requests:
        reported = (
            f"the backend reported {stats.last_reported_prompt_tokens} prompt tokens"
            if stats.last_reported_prompt_tokens
            else "the backend reported no usage"
        )
        lines.append(
            f"Last request: {stats.last_request_chars} chars, {reported}. "
            f"Compactions this run: {stats.compactions}."
        )
    return "\n".join(lines)


def _encoded(text: str) -> int:
    """Characters a piece of a string adds to the JSON encoding of that string."""
    return len(json.dumps(text, ensure_ascii=False)) - 2
