"""Minimal text edits between two versions of a document, plus a reference LSP edit applier.

Edits are computed in two steps: a line diff (difflib) finds the changed blocks cheaply, then
each block is trimmed to the characters that actually differ, so that a one-character change
becomes a one-character edit and the editor's undo, cursor and markers are disturbed as
little as possible.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from claw_lsp.edits.positions import (
    LineIndex,
    PositionEncoding,
    Range,
    split_lines_keepends,
)


@dataclass(frozen=True)
class TextEdit:
    range: Range
    new_text: str


@dataclass(frozen=True)
class _OffsetEdit:
    start: int
    end: int
    new_text: str


def _common_prefix_length(first: Sequence[object], second: Sequence[object]) -> int:
    limit = min(len(first), len(second))
    index = 0
    while index < limit and first[index] == second[index]:
        index += 1
    return index


def _common_suffix_length(first: Sequence[object], second: Sequence[object], limit: int) -> int:
    index = 0
    while index < limit and first[-1 - index] == second[-1 - index]:
        index += 1
    return index


def _common_prefix_chars(first: str, second: str) -> int:
    # Bisection over slice comparisons runs in C; a per-character Python loop would be slow on
    # a block that rewrites a long minified line.
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[low:middle] == second[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix_chars(first: str, second: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if (
            first[len(first) - middle : len(first) - low]
            == second[len(second) - middle : len(second) - low]
        ):
            low = middle
        else:
            high = middle - 1
    return low


def _splits_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"


def _trimmed_block_edit(
    old: str, old_start: int, old_end: int, new_block: str
) -> _OffsetEdit | None:
    """Shrink the replacement of old[old_start:old_end] by new_block to the differing characters."""
    old_block = old[old_start:old_end]
    prefix = _common_prefix_chars(old_block, new_block)
    suffix_limit = min(len(old_block), len(new_block)) - prefix
    suffix = _common_suffix_chars(old_block, new_block, suffix_limit)
    # An edit boundary between \r and \n would be unrepresentable as an LSP position (both
    # offsets map to the end of the line's content), so widen the edit by one character.
    if _splits_crlf(old, old_start + prefix):
        prefix -= 1
    if _splits_crlf(old, old_end - suffix):
        suffix -= 1
    start = old_start + prefix
    end = old_end - suffix
    replacement = new_block[prefix : len(new_block) - suffix]
    if start == end and not replacement:
        return None
    return _OffsetEdit(start, end, replacement)


def _line_offsets(lines: Sequence[str]) -> list[int]:
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return offsets


def _offset_edits(old: str, new: str) -> list[_OffsetEdit]:
    old_lines = split_lines_keepends(old)
    new_lines = split_lines_keepends(new)
    # Trimming identical head and tail lines first keeps the common case (a small change in a
    # big file) linear: SequenceMatcher only sees the changed middle.
    head = _common_prefix_length(old_lines, new_lines)
    tail = _common_suffix_length(old_lines, new_lines, min(len(old_lines), len(new_lines)) - head)
    old_middle = old_lines[head : len(old_lines) - tail]
    new_middle = new_lines[head : len(new_lines) - tail]
    old_offsets = _line_offsets(old_lines)
    new_offsets = _line_offsets(new_lines)

    # autojunk stays on: with it off, files with many blank or "}" lines make SequenceMatcher
    # quadratic (measured: 19 s instead of 0.2 s on 10k lines). It only affects which equal
    # lines are found, never the correctness of the edits.
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle)
    edits: list[_OffsetEdit] = []

    def add_block(old_from: int, old_to: int, new_from: int, new_to: int) -> None:
        new_block = new[new_offsets[head + new_from] : new_offsets[head + new_to]]
        edit = _trimmed_block_edit(
            old, old_offsets[head + old_from], old_offsets[head + old_to], new_block
        )
        if edit is not None:
            edits.append(edit)

    for tag, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and old_to - old_from == new_to - new_from:
            # Same number of lines: most likely each line was edited in place, so trim each
            # pair separately (a rename on three lines gives three small edits).
            for step in range(old_to - old_from):
                old_line, new_line = old_from + step, new_from + step
                add_block(old_line, old_line + 1, new_line, new_line + 1)
        else:
            add_block(old_from, old_to, new_from, new_to)
    return edits


def minimal_edits(
    old: str, new: str, encoding: PositionEncoding = PositionEncoding.UTF16
) -> list[TextEdit]:
    """Sorted, non-overlapping edits turning `old` into `new`; ranges refer to `old`."""
    if old == new:
        return []
    index = LineIndex(old)
    return [
        TextEdit(
            Range(
                index.offset_to_position(edit.start, encoding),
                index.offset_to_position(edit.end, encoding),
            ),
            edit.new_text,
        )
        for edit in _offset_edits(old, new)
    ]


def apply_edits(text: str, edits: Sequence[TextEdit], encoding: PositionEncoding) -> str:
    """Apply edits with LSP semantics: every range refers to the original text, ranges must not
    overlap (touching is fine), and inserts at the same position keep their array order."""
    index = LineIndex(text)
    resolved: list[tuple[int, int, int, str]] = []
    for order, edit in enumerate(edits):
        start = index.position_to_offset(edit.range.start, encoding)
        end = index.position_to_offset(edit.range.end, encoding)
        if end < start:
            raise ValueError(f"edit {order} has its end before its start")
        resolved.append((start, end, order, edit.new_text))
    resolved.sort()
    pieces: list[str] = []
    cursor = 0
    for start, end, order, new_text in resolved:
        if start < cursor:
            raise ValueError(f"edits must be non overlapping (edit {order} overlaps another)")
        pieces.append(text[cursor:start])
        pieces.append(new_text)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def changed_line_span(old: str, new: str) -> tuple[int, int] | None:
    """First and last line (0-based, inclusive) of `old` that the change touches; None if equal.

    A pure insertion reports the line it is inserted at; an edit ending at column 0 of a line
    (a whole-line deletion) does not count that following line as touched.
    """
    edits = minimal_edits(old, new, PositionEncoding.UTF32)
    if not edits:
        return None
    first = edits[0].range.start.line
    last = first
    for edit in edits:
        end = edit.range.end
        ends_at_line_start = end.character == 0 and end.line > edit.range.start.line
        last = max(last, end.line - 1 if ends_at_line_start else end.line)
    return first, last


def _split_on_newline(text: str) -> list[str]:
    # Patch tools split on \n only: a lone \r is line content, \r\n is content \r plus \n.
    lines = text.split("\n")
    result = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def unified_diff(old: str, new: str, path: str, context_lines: int = 3) -> str:
    """A standard unified diff with a/ and b/ headers (git style, including the
    "\\ No newline at end of file" marker); "" when the texts are equal."""
    if old == new:
        return ""
    # A newline in the path would forge extra header lines.
    safe_path = path.lstrip("/").replace("\n", "\\n").replace("\r", "\\r")
    output: list[str] = []
    for line in difflib.unified_diff(
        _split_on_newline(old),
        _split_on_newline(new),
        fromfile=f"a/{safe_path}",
        tofile=f"b/{safe_path}",
        n=context_lines,
    ):
        if line.endswith("\n"):
            output.append(line)
        else:
            output.append(line + "\n\\ No newline at end of file\n")
    return "".join(output)
