"""The one escaping function for every string a human reads: approval dialogs, `$/progress`,
`claw/event`, the CLI's stdout and stderr, tool summaries and listings.

Text from the model, the backend or the repository must be shown, never interpreted: a terminal
escape (ESC ] 0; ... BEL sets a window title, CSI sequences move the cursor), a bidirectional
override (U+202E turns `exe.txt` into `txt.exe` on screen), a zero-width character (two paths
that look the same), or a newline in a file name (a ghost row in a listing, a forged line in a
dialog). Each such character becomes a visible, unambiguous escape (`\\x1b`, `\\u202e`, `\\n`);
everything else, backslashes included, passes unchanged, so printable text round-trips.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

# Every code point that must not reach a screen as itself, as ranges: controls (C0, DEL, C1),
# format characters (soft hyphen, Arabic number signs, the Mongolian vowel separator and free
# variation selectors, zero-width space/joiners, LRM/RLM/ALM, bidi embeddings, overrides and
# isolates, word joiner and invisible operators, BOM, interlinear annotation, tag characters),
# line and paragraph separators, surrogates, and characters most fonts draw as nothing: the
# combining grapheme joiner, Hangul fillers, the braille blank and variation selectors. Written
# out because deriving it from unicodedata at import would cost a second of start-up; a unit test
# checks it still covers the categories Cc, Cf, Zl, Zp and Cs of the running Python.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x034F, 0x034F),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x180B, 0x180F),
    (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0x2800, 0x2800), (0x3164, 0x3164), (0xD800, 0xDFFF), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xE0100, 0xE01EF),
)  # fmt: skip
_SHORT_NAMES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    parts = [
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    ]
    return "[" + "".join(parts) + "]"


@functools.cache
def _pattern(multiline: bool, ascii_only: bool) -> re.Pattern[str]:
    """One character class, compiled on first use (start-up stays fast); pure ASCII text gets
    the small ASCII part of it, which the regex engine scans several times faster. Multi-line
    text keeps newlines and tabs (CR is matched and kept by _escaped when LF follows)."""
    ranges = (
        [(a, min(b, 0x7F)) for a, b in INVISIBLE_RANGES if a <= 0x7F]
        if ascii_only
        else list(INVISIBLE_RANGES)
    )
    if multiline:  # take \t (9) and \n (10) out of the C0 range
        ranges = [r for a, b in ranges for r in (((a, 8), (11, b)) if a <= 9 <= b else ((a, b),))]
    return re.compile(_char_class(tuple(ranges)))


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    multiline = match.re is _pattern(True, match.string.isascii())
    if char == "\r" and multiline and match.string.startswith("\n", match.end()):
        return char  # CR LF: a line ending, kept in multi-line text
    if char in _SHORT_NAMES:
        return _SHORT_NAMES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_for_display(text: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """`text` as it may be shown to a person. Single-line (the default, for names, commands,
    summaries, dialog fields) escapes newlines and tabs too; `multiline` (assistant text,
    diffs, notices) keeps newlines, tabs and CR LF. `limit` caps the input length and says how
    much was left out."""
    if not isinstance(text, str):
        text = str(text)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"... [{len(text) - limit} more characters]"
        text = text[:limit]
    if text.isascii() and text.isprintable():
        return text + cut  # the common case, checked at C speed
    return _pattern(multiline, text.isascii()).sub(_escaped, text) + cut


def has_unsafe_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether escape_for_display would change `text` (ignoring `limit`)."""
    return escape_for_display(text, multiline=multiline) != text


def escaped_approval(tool: str, subject: str, reason: str) -> tuple[str, str, str]:
    """An approval question's fields, each escaped to one line; the subject keeps only its own
    second line (the orchestrator's "(in folder)"), so the dialog's lines are always ours."""
    head, _, folder = subject.partition("\n")
    shown = escape_for_display(head) + (f"\n{escape_for_display(folder)}" if folder else "")
    return escape_for_display(tool), shown, escape_for_display(reason)


# Fields of an event payload that are labels (one line); every other string is multi-line.
SINGLE_LINE_FIELDS = frozenset(
    {"name", "tool", "summary", "title", "path", "label", "decision", "kind", "subject"}
)


def escape_fields(value: Any, key: str | None = None) -> Any:
    """Every string inside a JSON-like value escaped for display: label fields (see
    SINGLE_LINE_FIELDS) as one line, the rest keeping their lines. Mappings keep their keys."""
    if isinstance(value, str):
        return escape_for_display(value, multiline=key not in SINGLE_LINE_FIELDS)
    if isinstance(value, Mapping):
        return {k: escape_fields(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_fields(v, key) for v in value]
    return value
