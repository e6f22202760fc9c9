"""The editor context for one ask: active document, selection, diagnostics, open documents,
folders. Compact and budgeted: it is sent with every prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_SELECTION_CHARS = 12_000
MAX_ACTIVE_EXCERPT_LINES = 60
MAX_OPEN_DOCS = 20
MAX_DIAGNOSTICS = 20


@dataclass
class EditorContext:
    folders: list[str] = field(default_factory=list)
    active_path: str | None = None
    language_id: str | None = None
    active_text: str | None = None
    unsaved: bool = False
    selection: tuple[int, int, int, int] | None = None  # start line/char, end line/char (0-based)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    open_documents: list[str] = field(default_factory=list)


def render_editor_context(ctx: EditorContext) -> str:
    lines = ["<editor-context>"]
    if ctx.folders:
        lines.append("Workspace folders: " + ", ".join(ctx.folders))
    if ctx.active_path:
        state = " (unsaved changes)" if ctx.unsaved else ""
        lang = f" [{ctx.language_id}]" if ctx.language_id else ""
        lines.append(f"Active file: {ctx.active_path}{lang}{state}")
    if ctx.selection and ctx.active_text is not None:
        lines.extend(_selection_block(ctx))
    elif ctx.active_text is not None and ctx.selection is None and ctx.diagnostics:
        pass
    if ctx.diagnostics:
        lines.append("Diagnostics:")
        for diag in ctx.diagnostics[:MAX_DIAGNOSTICS]:
            lines.append("  " + _diagnostic_line(diag))
        if len(ctx.diagnostics) > MAX_DIAGNOSTICS:
            lines.append(f"  ({len(ctx.diagnostics) - MAX_DIAGNOSTICS} more not shown)")
    others = [p for p in ctx.open_documents if p != ctx.active_path][:MAX_OPEN_DOCS]
    if others:
        lines.append("Other open files: " + ", ".join(others))
    lines.append("</editor-context>")
    return "\n".join(lines) if len(lines) > 2 else ""


def _selection_block(ctx: EditorContext) -> list[str]:
    assert ctx.selection is not None and ctx.active_text is not None
    start_line, start_char, end_line, end_char = ctx.selection
    text_lines = ctx.active_text.splitlines()
    if (start_line, start_char) == (end_line, end_char):
        return [f"Cursor at line {start_line + 1}, column {start_char + 1}"]
    chunk = text_lines[start_line : end_line + 1]
    if chunk:
        chunk[-1] = chunk[-1][:end_char] if end_line >= start_line else chunk[-1]
        chunk[0] = chunk[0][start_char:]
    selected = "\n".join(chunk)
    note = ""
    if len(selected) > MAX_SELECTION_CHARS:
        selected = selected[:MAX_SELECTION_CHARS]
        note = f"\n[selection truncated to {MAX_SELECTION_CHARS} characters]"
    return [f"Selection (lines {start_line + 1}-{end_line + 1}):", "```", selected + note, "```"]


def _diagnostic_line(diag: dict[str, Any]) -> str:
    rng = diag.get("range") or {}
    start = rng.get("start") or {}
    line = int(start.get("line", 0)) + 1
    col = int(start.get("character", 0)) + 1
    severity = {1: "error", 2: "warning", 3: "info", 4: "hint"}.get(
        diag.get("severity") or 1, "error"
    )
    source = f" [{diag['source']}]" if diag.get("source") else ""
    code = f" ({diag['code']})" if diag.get("code") not in (None, "") else ""
    message = str(diag.get("message", "")).replace("\n", " ")[:300]
    return f"line {line}:{col} {severity}{source}{code}: {message}"


def summarise_prompt_title(prompt: str) -> str:
    first = prompt.strip().splitlines()[0] if prompt.strip() else "untitled"
    return first[:80]


def unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
