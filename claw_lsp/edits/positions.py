"""LSP positions over Python strings, in any of the three LSP position encodings.

Python strings index code points; LSP clients count UTF-16 code units (the default), UTF-8
bytes or UTF-32 code points depending on the negotiated `positionEncoding`. `LineIndex`
converts between the two in O(log n) per call so edits on large files stay cheap.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# LSP recognises exactly these three line terminators (not \v, \f, U+2028 ... as splitlines does).
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Characters that take more than one unit in the given encoding.
_WIDE_IN_UTF16 = re.compile("[\U00010000-\U0010ffff]")
_WIDE_IN_UTF8 = re.compile(r"[^\x00-\x7f]")


class PositionEncoding(StrEnum):
    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@dataclass(frozen=True, order=True)
class Position:
    line: int
    character: int


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position


def negotiate_encoding(client_offers: Sequence[str] | None) -> PositionEncoding:
    """Pick the first encoding the client offers (its order is its preference); default UTF-16."""
    supported = {encoding.value: encoding for encoding in PositionEncoding}
    for offer in client_offers or ():
        if isinstance(offer, str) and offer.lower() in supported:
            return supported[offer.lower()]
    return PositionEncoding.UTF16


def split_lines_keepends(text: str) -> list[str]:
    """Split on LSP line breaks only, keeping them; "" -> [] and a trailing break adds no line."""
    lines: list[str] = []
    line_start = 0
    for match in LINE_BREAK.finditer(text):
        lines.append(text[line_start : match.end()])
        line_start = match.end()
    if line_start < len(text):
        lines.append(text[line_start:])
    return lines


def _utf8_extra_units(char: str) -> int:
    code_point = ord(char)
    if code_point < 0x80:
        return 0
    if code_point < 0x800:
        return 1
    if code_point < 0x10000:
        return 2
    return 3


class _UnitTable:
    """Prefix sums of the extra units taken by multi-unit characters, for one encoding.

    units_before(offset) = offset + (extra units of all wide characters before offset).
    Only wide characters are stored, so ASCII-heavy text costs almost nothing.
    """

    def __init__(self, text: str, encoding: PositionEncoding) -> None:
        self.wide_offsets: list[int] = []
        # extra_before[k]: extra units of the first k wide characters.
        self.extra_before: list[int] = [0]
        # end_units[k]: unit index just after wide character k.
        self.end_units: list[int] = []
        if encoding is PositionEncoding.UTF32 or text.isascii():
            return
        pattern = _WIDE_IN_UTF16 if encoding is PositionEncoding.UTF16 else _WIDE_IN_UTF8
        extra_total = 0
        for match in pattern.finditer(text):
            offset = match.start()
            extra = 1 if encoding is PositionEncoding.UTF16 else _utf8_extra_units(match.group())
            extra_total += extra
            self.wide_offsets.append(offset)
            self.extra_before.append(extra_total)
            self.end_units.append(offset + 1 + extra_total)

    def units_before(self, offset: int) -> int:
        return offset + self.extra_before[bisect_left(self.wide_offsets, offset)]

    def offset_at_unit(self, unit: int) -> int:
        """The code-point offset at `unit`; inside a wide character, that character's start."""
        wide_chars_fully_before = bisect_right(self.end_units, unit)
        offset = unit - self.extra_before[wide_chars_fully_before]
        if wide_chars_fully_before < len(self.wide_offsets):
            offset = min(offset, self.wide_offsets[wide_chars_fully_before])
        return offset


class LineIndex:
    """Line starts and per-encoding unit tables for one immutable text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] = [0]
        # Offset where each line's content ends (its line break, or the end of the text).
        self._content_ends: list[int] = []
        for match in LINE_BREAK.finditer(text):
            self._content_ends.append(match.start())
            self._line_starts.append(match.end())
        self._content_ends.append(len(text))
        self._tables: dict[PositionEncoding, _UnitTable] = {}

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def _table(self, encoding: PositionEncoding) -> _UnitTable:
        table = self._tables.get(encoding)
        if table is None:
            table = self._tables[encoding] = _UnitTable(self.text, encoding)
        return table

    def line_start(self, line: int) -> int:
        return self._line_starts[line]

    def line_content_end(self, line: int) -> int:
        return self._content_ends[line]

    def offset_to_position(self, offset: int, encoding: PositionEncoding) -> Position:
        """Offset (code points) -> Position. An offset between \\r and \\n maps past the line's
        content and so does not round-trip; callers should not produce such offsets."""
        if not 0 <= offset <= len(self.text):
            raise ValueError(f"offset {offset} outside text of length {len(self.text)}")
        line = bisect_right(self._line_starts, offset) - 1
        table = self._table(encoding)
        character = table.units_before(offset) - table.units_before(self._line_starts[line])
        return Position(line, character)

    def position_to_offset(self, position: Position, encoding: PositionEncoding) -> int:
        """Position -> offset, clamping as LSP specifies: a column past the line's content goes to
        the end of the content, a line past the last line goes to the end of the text. A column
        inside a multi-unit character (half a surrogate pair, a UTF-8 continuation byte) rounds
        down to the character's start."""
        if position.line < 0 or position.character < 0:
            raise ValueError(f"negative position {position}")
        if position.line >= len(self._line_starts):
            return len(self.text)
        line_start = self._line_starts[position.line]
        content_end = self._content_ends[position.line]
        table = self._table(encoding)
        target_unit = table.units_before(line_start) + position.character
        if target_unit >= table.units_before(content_end):
            return content_end
        return table.offset_at_unit(target_unit)
