"""Streaming: the raw markup of a call recovered from text never reaches the user.

``VisibleTextFilter`` sits between the model's text deltas and the editor. It passes text
through until a place where a call to an offered tool may begin (an opening marker of one of
the active families, a fence that may hold a call, a reply that starts as JSON), holds the rest
back until more text settles it, and drops what turned out to be a call. What it has passed on
is always a prefix of the final visible text. ``has_open_call`` tells whether text ends inside
a call that is still being written (a reply cut off by the token limit, BF-14).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from claw_lsp.llm.toolcalls.core import Match, ToolCatalog
from claw_lsp.llm.toolcalls.jsoncall import value_end
from claw_lsp.llm.toolcalls.pythonic import _closing_bracket
from claw_lsp.llm.toolcalls.regions import Fence, SpanSet, first_visible
from claw_lsp.llm.toolcalls.registry import analyse, catalog, parsers_for
from claw_lsp.llm.toolcalls.sections import DEEPSEEK, KIMI_K2

# pending(text, position) -> could more text still make the marker at position part of a call?
Pending = Callable[[str, int], bool]
_NAME_CHARS = re.compile(r"[\w.-]*")


def _balanced(opener: str, closer: str) -> Pending:
    """Pending while a block opened at or after the marker is not closed yet (consecutive
    blocks are read as one run, so the run is pending until its last block closes)."""
    return lambda text, at: text.count(opener, at) > text.count(closer, at)


def _closed_by_pattern(pattern: re.Pattern[str]) -> Pending:
    return lambda text, at: pattern.search(text, at) is None


def _json_after(marker: str) -> Pending:
    def pending(text: str, at: int) -> bool:
        body = at + len(marker)
        while body < len(text) and text[body].isspace():
            body += 1
        if body >= len(text):
            return True
        return text[body] in "{[" and value_end(text, body) is None

    return pending


def _tool_call_tag(text: str, at: int) -> bool:
    """``<tool_call>`` opens Hermes JSON, Qwen XML or a GLM name; anything else settles it."""
    body = at + len("<tool_call>")
    rest = text[body:].lstrip()
    if rest and rest[0] not in "{[<":
        name = _NAME_CHARS.match(rest)
        after = rest[name.end() :].lstrip() if name else rest
        if after and not after.startswith("<"):
            return False  # "<tool_call> tag." in prose
    return text.count("<tool_call>", at) > text.count("</tool_call>", at)


def _action(text: str, at: int) -> bool:
    """Command R's ``Action:`` then a fenced JSON list: settled when the fence closes."""
    opener = text.find("```", at)
    line_end = text.find("\n", at)
    if line_end == -1:
        return True
    if opener == -1 or text[line_end:opener].strip():
        rest = text[line_end:].strip()
        return "```".startswith(rest)  # the fence may still come on the next line
    return text.find("```", opener + 3) == -1


def _fence_line(text: str, at: int) -> bool:
    return text.find("\n", at) == -1  # a fence's info line is still being written


def _mistral(text: str, at: int) -> bool:
    body = text[at + len("[TOOL_CALLS]") :].lstrip()
    if not body:
        return True
    if body[0] in "[{":
        return value_end(body, 0) is None
    header = re.match(r"[\w.-]+(?:\[CALL_ID\][\w-]*)?(?:\[ARGS\])?", body)
    if header is None or header.end() == 0:
        return False
    rest = body[header.end() :]
    return not rest or (rest[0] == "{" and value_end(rest, 0) is None) or "[" in rest[:1]


def _harmony(text: str, at: int) -> bool:
    message = text.find("<|message|>", at)
    if message == -1:
        return True  # the header is still being written
    if "to=" not in text[at:message]:
        return False  # a plain message (final, analysis): text
    return not any(text.find(end, message) != -1 for end in ("<|call|>", "<|end|>", "<|start|>"))


def _pythonic_list(text: str, at: int) -> bool:
    return _closing_bracket(text, at) == -1


# Per parser: literal markers (or line-start patterns) and when an occurrence is settled.
_LITERAL_MARKERS: dict[str, tuple[tuple[str, Pending], ...]] = {
    "harmony": (("<|channel|>", _harmony), ("<|start|>assistant", _harmony)),
    "deepseek": tuple(
        (marker, _closed_by_pattern(DEEPSEEK.section_end)) for marker in DEEPSEEK.openers
    ),
    "kimi_k2": tuple(
        (marker, _closed_by_pattern(KIMI_K2.section_end)) for marker in KIMI_K2.openers
    ),
    "mistral": (("[TOOL_CALLS]", _mistral),),
    "command_r": (("<|START_ACTION|>", _balanced("<|START_ACTION|>", "<|END_ACTION|>")),),
    "glm": (("<tool_call>", _tool_call_tag),),
    "qwen3_coder": (
        ("<tool_call>", _tool_call_tag),
        ("<seed:tool_call>", _balanced("<seed:tool_call>", "</seed:tool_call>")),
        ("<function=", _balanced("<function=", "</function>")),
    ),
    "hermes": (
        ("<tool_call>", _tool_call_tag),
        ("<tools>", _balanced("<tools>", "</tools>")),
        ("<function_call>", _balanced("<function_call>", "</function_call>")),
        ("<tool_calls>", _balanced("<tool_calls>", "</tool_calls>")),
        ("<TOOLCALL>", _balanced("<TOOLCALL>", "</TOOLCALL>")),
        ("<function name=", _balanced("<function name=", "</function>")),
    ),
    "llama3": (("<|python_tag|>", _json_after("<|python_tag|>")),),
    "pythonic": (("<|python_start|>", _balanced("<|python_start|>", "<|python_end|>")),),
}
# Per parser: markers that must start a line, what of them may already be at the end of the
# text while still being written, and when an occurrence is settled.
LineMarker = tuple[re.Pattern[str], re.Pattern[str], Pending]
_LINE_MARKERS: dict[str, tuple[LineMarker, ...]] = {
    "llama3": (
        (
            re.compile(r'^[ \t]*\{\s*"name"', re.MULTILINE),
            re.compile(r'(?:^|\n)[ \t]*\{\s*(?:"(?:n(?:a(?:m(?:e)?)?)?)?)?\Z'),
            _json_after(""),
        ),
    ),
    "pythonic": (
        (
            re.compile(r"^[ \t]*\[\s*[A-Za-z_][\w.]*\s*\(", re.MULTILINE),
            re.compile(r"(?:^|\n)[ \t]*\[\s*(?:[A-Za-z_][\w.]*\s*)?\Z"),
            _pythonic_list,
        ),
    ),
    "command_r": (
        (
            re.compile(r"^[ \t]*Action:", re.MULTILINE),
            re.compile(r"(?:^|\n)[ \t]*A(?:c(?:t(?:i(?:o(?:n)?)?)?)?)?\Z"),
            _action,
        ),
    ),
}
# Llama 3.x known for sure may put its JSON mid-line (llama.py).
_LLAMA_ANYWHERE: LineMarker = (
    re.compile(r'\{\s*"name"'),
    re.compile(r'\{\s*(?:"(?:n(?:a(?:m(?:e)?)?)?)?)?\Z'),
    _json_after(""),
)
_FENCE_OPENER: LineMarker = (
    re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE),
    re.compile(r"(?:^|\n)[ \t]*(?:`{1,2}|~{1,2})\Z"),
    _fence_line,
)


class _Markers:
    def __init__(self, family: str | None) -> None:
        names = parsers_for(family)
        self.literal = [pair for name in names for pair in _LITERAL_MARKERS.get(name, ())]
        self.lines = [marker for name in names for marker in _LINE_MARKERS.get(name, ())]
        if family in ("llama3", "functionary"):
            self.lines.append(_LLAMA_ANYWHERE)
        self.lines.append(_FENCE_OPENER)
        self.prefixes = sorted({marker for marker, _ in self.literal}, key=len, reverse=True)
        self.first_chars = frozenset(marker[0] for marker in self.prefixes)
        # One search each for "is there any marker at all" (the common answer is no).
        self.any_literal = re.compile("|".join(map(re.escape, self.prefixes)) or "(?!)")
        self.any_line = re.compile(
            "|".join(f"(?:{pattern.pattern})" for pattern, _, _ in self.lines), re.MULTILINE
        )
        self.longest = max((len(marker) for marker in self.prefixes), default=1)

    def first_pending(self, text: str, start: int, skip: SpanSet) -> int:
        """The first marker at or after ``start`` that more text could still make a call."""
        best = len(text)
        for marker, pending in self.literal:
            position = text.find(marker, start, best)
            while position != -1 and position < best:
                if position not in skip and pending(text, position):
                    best = position
                    break
                position = text.find(marker, position + 1, best)
        for pattern, _, pending in self.lines:
            for found in pattern.finditer(text, start, best):
                at = found.start() + len(found.group(0)) - len(found.group(0).lstrip())
                if at not in skip and pending(text, at):
                    best = min(best, at)
                    break
        return best

    def any_in(self, tail: str, at_line_start: bool) -> bool:
        """Whether any marker occurs in ``tail`` (pending or not)."""
        if self.any_literal.search(tail):
            return True
        # A line marker needs a line start: give the tail one only if it really is at one.
        return self.any_line.search(tail if at_line_start else "\x00" + tail) is not None

    def partial_suffix(self, text: str) -> int:
        """Where a marker may be starting at the very end of ``text`` (len(text) if nowhere).

        Line markers in ``text`` count as at a line start only after a line break in it."""
        earliest = len(text)
        window = text[-self.longest :]
        if not any(char in window for char in self.first_chars) and not _LINE_START_CHARS.search(
            text[-64:]
        ):
            return earliest  # nothing at the end could be the start of a marker
        for index in range(max(0, len(text) - self.longest + 1), len(text)):
            if text[index] in self.first_chars:
                rest = text[index:]
                if any(len(m) > len(rest) and m.startswith(rest) for m in self.prefixes):
                    earliest = index
                    break
        tail = text[-64:]
        for _, partial, _ in self.lines:
            found = partial.search(tail)
            if found is not None:
                at = found.start() + len(found.group(0)) - len(found.group(0).lstrip())
                earliest = min(earliest, len(text) - len(tail) + at)
        return earliest


class VisibleTextFilter:
    """Feed assistant text deltas; get back the text that is safe to show now.

    Cheap on plain prose: only the undecided tail is looked at until a marker shows up.
    """

    def __init__(self, known_tools: Collection[str] | ToolCatalog, family: str | None = None):
        self._tools = catalog(known_tools)
        self._family = family
        self._markers = _Markers(family)
        self._chunks: list[str] = []
        self._position = 0  # raw text before this index is decided (shown or dropped)
        self._tail = ""  # the undecided text: text[position:]
        self._bare_json_at = -1  # where the whole reply may start as bare JSON, -1: it cannot

    @property
    def text(self) -> str:
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    def feed(self, delta: str) -> str:
        if not delta:
            return ""
        self._chunks.append(delta)
        self._tail += delta
        if _MAY_CHANGE_REGIONS.search(delta):
            text = self.text
            first = first_visible(text)
            self._bare_json_at = first if first < len(text) and text[first] in "{[" else -1
        if self._bare_json_at == -1 and not self._markers.any_in(self._tail, self._line_start()):
            keep = self._markers.partial_suffix(self._tail)
            return self._decide(self._position + keep, self._tail[:keep])
        return self._advance(final=False)

    def finish(self, *, calls_used: bool = True) -> str:
        """The rest of the visible text, once the reply is complete. ``calls_used`` False: the
        text calls are not used (the reply had structured calls), so nothing more is dropped."""
        if not calls_used:
            return self._decide(self._position + len(self._tail), self._tail)
        return self._advance(final=True)

    def _line_start(self) -> bool:
        text_before = self._position
        return text_before == 0 or self.text[text_before - 1] == "\n"

    def _decide(self, limit: int, shown: str) -> str:
        self._tail = self._tail[limit - self._position :]
        self._position = limit
        return shown

    def _advance(self, *, final: bool) -> str:
        text = self.text
        matches, scan = analyse(text, self._tools, self._family)
        limit = len(text)
        if not final:
            spans = [*scan.opaque.spans, *((m.start, m.end) for m in matches)]
            limit = _first_open(text, self._position, self._markers, SpanSet(spans), scan.fences)
            if matches:  # the last call may still grow (a second call, a closing token)
                limit = min(limit, max(matches[-1].start, self._position))
            limit = min(limit, self._position + self._markers.partial_suffix(self._tail))
            if self._bare_json_at != -1:  # the whole reply may be one bare JSON call
                limit = min(limit, self._bare_json_at)
            limit = max(limit, self._position)
        return self._decide(limit, _visible_between(text, self._position, limit, matches))


def _first_open(
    text: str, start: int, markers: _Markers, skip: SpanSet, blocks: tuple[Fence, ...]
) -> int:
    """Where the first call that more text could still complete may begin (else len(text))."""
    limit = markers.first_pending(text, start, skip)
    for fence in blocks:
        open_fence = fence.start >= start and not fence.terminated and fence.start not in skip
        if open_fence and fence.info in _CALL_FENCES and not fence.example:
            limit = min(limit, fence.start)
    return limit


# Characters a line marker's start may be written with (see partial_suffix).
_LINE_START_CHARS = re.compile(r"[{\[A`~]")
# A delta with one of these may open or close a reasoning region or start a JSON reply.
_MAY_CHANGE_REGIONS = re.compile(r"[<>\[\]{◁▷]")


def _visible_between(text: str, start: int, end: int, matches: list[Match]) -> str:
    """text[start:end] without the parts that are calls."""
    pieces: list[str] = []
    cursor = start
    for match in matches:
        if match.end <= cursor or match.start >= end:
            continue
        pieces.append(text[cursor : max(cursor, match.start)])
        cursor = min(end, max(cursor, match.end))
    pieces.append(text[cursor:end])
    return "".join(pieces)


_CALL_FENCES = frozenset({"", "json", "tool_call", "tool_calls", "xml", "tool_code"})


def has_open_call(
    text: str, known_tools: Collection[str] | ToolCatalog, family: str | None = None
) -> bool:
    """Whether ``text`` ends inside a call that is still being written."""
    tools = catalog(known_tools)
    # A call that reaches the end of the text may be one that was cut off (its markup is
    # unambiguous, its arguments broken): only calls with text after them are settled.
    end = len(text.rstrip())
    matches, scan = analyse(text, tools, family)
    settled = [(m.start, m.end) for m in matches if m.end < end]
    skip = SpanSet([*scan.opaque.spans, *settled])
    return _first_open(text, 0, _Markers(family), skip, scan.fences) < len(text)
