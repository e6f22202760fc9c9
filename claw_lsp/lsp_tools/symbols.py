"""Finding a symbol on a line: models name a position as a 1-based line and the symbol's text
there (they cannot count UTF-16 columns); the column is found here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from claw_lsp.edits.positions import LineIndex

NEARBY_LINES = 5
MAX_LINE_ECHO = 160
_IDENTIFIER_RUN = re.compile(r"\w+")


class SymbolNotFound(ValueError):
    """The message is model-facing: it says what the line holds and where the symbol is."""


@dataclass(frozen=True)
class SymbolSpot:
    line: int  # 0-based
    offset: int  # code-point offset in the text where the cursor goes
    occurrence: int  # 1-based, among `count` occurrences on the line
    count: int

    def note(self, symbol: str, line: int) -> str:
        """What the model should know when the choice was not unique."""
        if self.count < 2:
            return ""
        return (
            f"('{symbol}' occurs {self.count} times on line {line}; this is occurrence "
            f"{self.occurrence}: pass occurrence to pick another)"
        )


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def occurrences(content: str, symbol: str) -> list[int]:
    """Start columns of `symbol` in `content`; whole-word matches when there are any."""
    found: list[int] = []
    start = content.find(symbol)
    while start != -1:
        found.append(start)
        start = content.find(symbol, start + 1)
    if not found:
        return []

    def whole(at: int) -> bool:
        before = content[at - 1] if at > 0 else ""
        after = content[at + len(symbol)] if at + len(symbol) < len(content) else ""
        left_ok = not (_is_word(symbol[0]) and before and _is_word(before))
        right_ok = not (_is_word(symbol[-1]) and after and _is_word(after))
        return left_ok and right_ok

    words = [at for at in found if whole(at)]
    return words or found


def _focus(symbol: str) -> int:
    """Where in `symbol` the cursor goes: the last identifier of `self.name` or `greet(`."""
    runs = list(_IDENTIFIER_RUN.finditer(symbol))
    return runs[-1].start() if runs else 0


def locate_symbol(
    text: str, line: int, symbol: str, occurrence: int | None = None, label: str = "the file"
) -> SymbolSpot:
    symbol = symbol.strip()
    if not symbol:
        raise SymbolNotFound("symbol is empty: give the symbol's text as it appears on the line")
    if "\n" in symbol or "\r" in symbol:
        raise SymbolNotFound("symbol must be text from one line")
    index = LineIndex(text)
    last = index.line_count
    if not 1 <= line <= last:
        raise SymbolNotFound(f"line {line} is outside {label} (it has {last} lines)")
    row = line - 1
    content = text[index.line_start(row) : index.line_content_end(row)]
    columns = occurrences(content, symbol)
    if not columns:
        raise SymbolNotFound(_not_found(text, index, row, symbol, label))
    if occurrence is not None and not 1 <= occurrence <= len(columns):
        raise SymbolNotFound(
            f"'{symbol}' occurs {len(columns)} time(s) on line {line}; occurrence must be "
            f"between 1 and {len(columns)}"
        )
    chosen = occurrence or 1
    column = columns[chosen - 1] + _focus(symbol)
    return SymbolSpot(row, index.line_start(row) + column, chosen, len(columns))


def _not_found(text: str, index: LineIndex, row: int, symbol: str, label: str) -> str:
    content = text[index.line_start(row) : index.line_content_end(row)]
    shown = content.strip()
    if len(shown) > MAX_LINE_ECHO:
        shown = shown[:MAX_LINE_ECHO] + "..."
    nearby = []
    for other in range(max(0, row - NEARBY_LINES), min(index.line_count, row + NEARBY_LINES + 1)):
        if other == row:
            continue
        other_text = text[index.line_start(other) : index.line_content_end(other)]
        if occurrences(other_text, symbol):
            nearby.append(str(other + 1))
    hint = f"; it is on line {', '.join(nearby)}" if nearby else ""
    return f"'{symbol}' is not on line {row + 1} of {label} (that line is: {shown!r}){hint}"
