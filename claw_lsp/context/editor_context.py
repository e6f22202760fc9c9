"""The editor context for one ask: active document, selection or an excerpt around the cursor,
diagnostics, open documents, folders. Compact and budgeted: it is sent with every prompt, in
the user message (never the system prompt), and each part states what it left out.

The full text of the active document is not sent: read_file sees the editor's unsaved buffer,
so the model reads more when it needs it. What is sent is what only the editor knows: where
the user is looking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from claw_lsp.edits.positions import LineIndex, Position, PositionEncoding
from claw_lsp.foundation.json_values import mapping_at

MAX_SELECTION_CHARS = 12_000
EXCERPT_LINES_AROUND = 10
MAX_EXCERPT_CHARS = 3_000
MAX_EXCERPT_LINE_CHARS = 240
MAX_OPEN_DOCS = 20
MAX_FOLDERS = 10
MAX_DIAGNOSTICS = 20
MAX_DIAGNOSTIC_CHARS = 300
MAX_EDITOR_CONTEXT_CHARS = 16_000


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
    encoding: str = "utf-16"  # the position encoding the selection's columns are in


def render_editor_context(ctx: EditorContext) -> str:
    """The `<editor-context>` block, or "" when there is nothing to say."""
    head: list[str] = []
    if ctx.folders:
        head.append("Workspace folders: " + _capped_list(ctx.folders, MAX_FOLDERS))
    if ctx.active_path:
        state = " (unsaved changes)" if ctx.unsaved else ""
        lang = f" [{ctx.language_id}]" if ctx.language_id else ""
        head.append(f"Active file: {ctx.active_path}{lang}{state}")
    tail: list[str] = []
    if ctx.diagnostics:
        tail.append("Diagnostics:")
        tail += ["  " + diagnostic_line(d) for d in ctx.diagnostics[:MAX_DIAGNOSTICS]]
        if len(ctx.diagnostics) > MAX_DIAGNOSTICS:
            tail.append(f"  ({len(ctx.diagnostics) - MAX_DIAGNOSTICS} more not shown)")
    others = [p for p in dict.fromkeys(ctx.open_documents) if p != ctx.active_path]
    if others:
        tail.append("Other open files: " + _capped_list(others, MAX_OPEN_DOCS))
    # The location block is the only large part: it gives way first when over budget.
    location = _location_block(ctx)
    room = MAX_EDITOR_CONTEXT_CHARS - sum(len(line) + 1 for line in head + tail) - 40
    if location and sum(len(line) + 1 for line in location) > room:
        location = _shrink(location, room)
    body = head + location + tail
    if not body:
        return ""
    text = "\n".join(["<editor-context>", *body, "</editor-context>"])
    if len(text) > MAX_EDITOR_CONTEXT_CHARS:  # very long paths or folder names
        text = text[: MAX_EDITOR_CONTEXT_CHARS - 60] + "\n[editor context cut]\n</editor-context>"
    return text


def _location_block(ctx: EditorContext) -> list[str]:
    if ctx.active_text is None:
        if ctx.selection is not None:
            line, char = ctx.selection[0], ctx.selection[1]
            return [f"Cursor at line {line + 1}, column {char + 1}"]
        return []
    index = LineIndex(ctx.active_text)
    encoding = _encoding(ctx.encoding)
    if ctx.selection is not None:
        start_line, start_char, end_line, end_char = ctx.selection
        start = _offset(index, start_line, start_char, encoding)
        end = _offset(index, end_line, end_char, encoding)
        if end > start:
            return _selection_block(ctx.active_text[start:end], start_line, end_line)
        return [
            f"Cursor at line {start_line + 1}, column {start_char + 1}",
            *_excerpt(index, start_line, "cursor"),
        ]
    if ctx.diagnostics:
        first = _diagnostic_line_number(ctx.diagnostics[0])
        if first is not None:
            return _excerpt(index, first, "first diagnostic")
    return []


def _selection_block(selected: str, start_line: int, end_line: int) -> list[str]:
    note = ""
    if len(selected) > MAX_SELECTION_CHARS:
        note = f"\n[selection truncated: {MAX_SELECTION_CHARS} of {len(selected)} characters]"
        selected = selected[:MAX_SELECTION_CHARS]
    fence = "````" if "```" in selected else "```"
    return [f"Selection (lines {start_line + 1}-{end_line + 1}):", fence, selected + note, fence]


def _excerpt(index: LineIndex, line: int, around: str) -> list[str]:
    """Numbered lines around `line`, the line itself marked with `>`."""
    line = min(max(0, line), index.line_count - 1)
    first = max(0, line - EXCERPT_LINES_AROUND)
    last = min(index.line_count - 1, line + EXCERPT_LINES_AROUND)
    rows: list[str] = []
    for number in range(first, last + 1):
        text = index.text[index.line_start(number) : index.line_content_end(number)]
        if len(text) > MAX_EXCERPT_LINE_CHARS:
            text = text[:MAX_EXCERPT_LINE_CHARS] + " [line cut]"
        marker = ">" if number == line else " "
        rows.append(f"{marker}{number + 1:>5}| {text}")
    while rows and sum(len(r) + 1 for r in rows) > MAX_EXCERPT_CHARS:
        # Drop from the end farther from the marked line.
        drop_first = abs(first - line) > abs(last - line)
        rows.pop(0 if drop_first else -1)
        first, last = (first + 1, last) if drop_first else (first, last - 1)
    return [f"Lines {first + 1}-{last + 1} around the {around}:", "```", *rows, "```"]


def _shrink(block: list[str], room: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for line in block[:-1]:
        if used + len(line) + 1 > room - 60:
            break
        kept.append(line)
        used += len(line) + 1
    return [*kept, "[... cut to fit the editor-context budget]", block[-1]]


def diagnostic_line(diag: dict[str, Any]) -> str:
    start = mapping_at(mapping_at(diag, "range"), "start")
    line = _int(start.get("line")) + 1
    col = _int(start.get("character")) + 1
    severity = {1: "error", 2: "warning", 3: "info", 4: "hint"}.get(
        diag.get("severity") or 1, "error"
    )
    source = f" [{diag['source']}]" if diag.get("source") else ""
    code = f" ({diag['code']})" if diag.get("code") not in (None, "") else ""
    message = " ".join(str(diag.get("message", "")).split())[:MAX_DIAGNOSTIC_CHARS]
    return f"line {line}:{col} {severity}{source}{code}: {message}"


def _diagnostic_line_number(diag: dict[str, Any]) -> int | None:
    rng = diag.get("range")
    if isinstance(rng, dict) and isinstance(rng.get("start"), dict):
        return _int(rng["start"].get("line"))
    return None


def _offset(index: LineIndex, line: int, char: int, encoding: PositionEncoding) -> int:
    return index.position_to_offset(Position(max(0, line), max(0, char)), encoding)


def _encoding(name: str) -> PositionEncoding:
    try:
        return PositionEncoding(name)
    except ValueError:
        return PositionEncoding.UTF16


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _capped_list(items: list[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")
