"""Regions of assistant content that are never parsed for calls, and the fenced blocks.

Reasoning (``<think>``, ``[THINK]``, harmony's analysis channel ...) and tool results the model
echoes or invents (``<tool_response>`` ...) are opaque: a call written there is never run. Fenced
code blocks are parsed only as a whole (see registry) and never when the text before them says
they are an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from claw_lsp.llm.toolcalls.core import SpanSet, ToolCatalog

# (opening marker, closing marker); an unterminated region runs to the end of the content.
_REASONING = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<seed:think>", "</seed:think>"),
    ("[THINK]", "[/THINK]"),
    ("<|START_THINKING|>", "<|END_THINKING|>"),
    ("◁think▷", "◁/think▷"),
)
_TOOL_RESULTS = (
    ("<tool_response>", "</tool_response>"),
    ("<tool_result>", "</tool_result>"),
    ("<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>"),
    ("<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>"),
    ("[TOOL_RESULTS]", "[/TOOL_RESULTS]"),
    ("<|start_header_id|>ipython<|end_header_id|>", "<|eot_id|>"),
    ("<|START_TOOL_RESULT|>", "<|END_TOOL_RESULT|>"),
    ("<|observation|>", "<|assistant|>"),
    ("<|im_start|>tool", "<|im_end|>"),
    ("<|im_start|>user", "<|im_end|>"),
    ("<|start|>functions.", "<|end|>"),  # a harmony tool result: functions.NAME to=assistant
)
_OPAQUE = _REASONING + _TOOL_RESULTS
_CLOSING = dict(_OPAQUE)
# One pass for the markers that start with "<" (a regex with a literal first character is
# scanned fast), str.find for the few others.
_ANGLE_OPENERS = re.compile(
    "<(?:" + "|".join(re.escape(opening[1:]) for opening, _ in _OPAQUE if opening[0] == "<") + ")"
)
_OTHER_OPENERS = tuple(opening for opening, _ in _OPAQUE if opening[0] != "<")
# Qwen3 templates put the opening <think> into the prompt, so the reply only closes it.
_FORCED_OPEN_CLOSE = "</think>"
_HARMONY_ANALYSIS = "<|channel|>analysis"
_HARMONY_MESSAGE = "<|message|>"
_HARMONY_ENDS = ("<|end|>", "<|start|>", "<|channel|>", "<|call|>")

_OPENING_LINE = re.compile(r"\n[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n")
_CLOSINGS: dict[str, re.Pattern[str]] = {}
_NO_SPANS = SpanSet()
# Fence languages that may hold a call; any other language is code, never a call.
CALL_FENCE_LANGUAGES = frozenset({"", "json", "tool_call", "tool_calls", "xml", "tool_code"})
# Words right before a fence that make it plainly an example, not a call.
_EXAMPLE_CUE = re.compile(
    r"\b(?:for example|for instance|e\.g\.|examples?|sample|format|syntax|template|"
    r"looks? like|would look|such as|documentation|schema)\b",
    re.IGNORECASE,
)
_CUE_WINDOW_CHARS = 200


class Fence(NamedTuple):  # a tuple: replies with many code blocks build many of them
    start: int
    end: int
    info: str
    body: str
    terminated: bool
    example: bool

    @property
    def may_hold_call(self) -> bool:
        return self.terminated and not self.example and self.info in CALL_FENCE_LANGUAGES


def _region_spans(content: str) -> list[tuple[int, int]]:
    starts = [(found.start(), found.group(0)) for found in _ANGLE_OPENERS.finditer(content)]
    for opening in _OTHER_OPENERS:
        position = content.find(opening)
        while position != -1:
            starts.append((position, opening))
            position = content.find(opening, position + 1)
    spans: list[tuple[int, int]] = []
    covered = 0
    for position, opening in sorted(starts):
        if position < covered:
            continue  # inside a region already: not an opening of its own
        close = content.find(_CLOSING[opening], position + len(opening))
        covered = len(content) if close == -1 else close + len(_CLOSING[opening])
        spans.append((position, covered))
    return spans


def first_visible(content: str) -> int:
    """Index of the first non-space character outside reasoning and results (len: none).

    The same regions as opaque_spans, found from the start only: cheap on a long reply."""
    position = 0
    close = content.find(_FORCED_OPEN_CLOSE)
    if close != -1 and not _region_before(content, close):
        position = close + len(_FORCED_OPEN_CLOSE)
    while True:
        while position < len(content) and content[position].isspace():
            position += 1
        opening = next((o for o in _CLOSING if content.startswith(o, position)), None)
        if opening is None:
            if not content.startswith(_HARMONY_ANALYSIS, position):
                return position
            spans = _harmony_analysis_spans(content[position:])
            if not spans or spans[0][0] != 0:
                return position
            position += spans[0][1]
            continue
        end = content.find(_CLOSING[opening], position + len(opening))
        if end == -1:
            return len(content)
        position = end + len(_CLOSING[opening])


def _region_before(content: str, limit: int) -> bool:
    if _ANGLE_OPENERS.search(content, 0, limit) is not None:
        return True
    if _HARMONY_ANALYSIS in content[:limit]:
        return True
    return any(content.find(opening, 0, limit) != -1 for opening in _OTHER_OPENERS)


def _harmony_analysis_spans(content: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position = content.find(_HARMONY_ANALYSIS)
    while position != -1:
        header_end = content.find(_HARMONY_MESSAGE, position)
        if header_end == -1:
            break
        header = content[position + len(_HARMONY_ANALYSIS) : header_end]
        body = header_end + len(_HARMONY_MESSAGE)
        if "to=" in header or "<|" in header:  # a call header, or not one header at all
            position = content.find(_HARMONY_ANALYSIS, body)
            continue
        ends = [e for e in (content.find(m, body) for m in _HARMONY_ENDS) if e != -1]
        end = min(ends) if ends else len(content)
        spans.append((position, end))
        position = content.find(_HARMONY_ANALYSIS, end)
    return spans


def opaque_spans(content: str) -> list[tuple[int, int]]:
    """Reasoning and tool-result regions of ``content``."""
    spans = _region_spans(content) + _harmony_analysis_spans(content)
    close = content.find(_FORCED_OPEN_CLOSE)
    if close != -1 and not any(start < close for start, _ in spans):
        spans.append((0, close + len(_FORCED_OPEN_CLOSE)))
    return spans


def is_example(content: str, start: int) -> bool:
    """Whether the line or two before ``start`` say that what follows is an example."""
    before = content[max(0, start - _CUE_WINDOW_CHARS) : start].rstrip()
    lines = [line for line in before.splitlines() if line.strip()]
    return bool(lines) and _EXAMPLE_CUE.search("\n".join(lines[-2:])) is not None


def _closing(fence: str) -> re.Pattern[str]:
    # A closing fence may carry a special token after it (DeepSeek: ```<｜tool▁call▁end｜>).
    if fence not in _CLOSINGS:
        _CLOSINGS[fence] = re.compile(rf"\n[ \t]*{re.escape(fence)}(?=[ \t]*(?:\n|<|\Z))")
    return _CLOSINGS[fence]


def fences(content: str) -> list[Fence]:
    """The fenced blocks: an opening line with ``` or ~~~ and optional info, to the same fence
    on a line of its own (or the end of the content)."""
    if "```" not in content and "~~~" not in content:
        return []
    # Searched with a line break in front, every line start is right after a "\n": patterns
    # that begin with a literal character are scanned fast (no "^" with MULTILINE).
    text = "\n" + content
    blocks: list[Fence] = []
    position = 0
    while True:
        opening = _OPENING_LINE.search(text, position)
        if opening is None:
            return blocks
        close = _closing(opening["fence"]).search(text, opening.end() - 1)
        body = text[opening.end() : close.start() if close else len(text)]
        end = close.end() - 1 if close else len(content)
        info = opening["info"].strip().lower()
        start = opening.start()
        example = info in CALL_FENCE_LANGUAGES and is_example(content, start)
        blocks.append(Fence(start, end, info, body, close is not None, example))
        position = end + 1


# Blocks of other families' markup: what a tag-less form (Llama JSON, pythonic lists) finds
# inside one that failed to parse must not be rescued on its own.
_CALL_TAGS = (
    ("<tool_call>", "</tool_call>"),
    ("<seed:tool_call>", "</seed:tool_call>"),
    ("<tools>", "</tools>"),
    ("<function_call>", "</function_call>"),
    ("<tool_calls>", "</tool_calls>"),
    ("<TOOLCALL>", "</TOOLCALL>"),
    ("<function", "</function>"),
    ("<|START_ACTION|>", "<|END_ACTION|>"),
)


def inside_call_tag(content: str, position: int) -> bool:
    return any(
        content.rfind(opening, 0, position) > content.rfind(closing, 0, position)
        for opening, closing in _CALL_TAGS
    )


def quoted_inline(content: str, position: int) -> bool:
    # `<tool_call>...` in prose is a quotation. Only the adjacent backtick counts: pairing
    # backticks across the line would let a backtick inside one call's arguments hide the next.
    return position > 0 and content[position - 1] == "`"


@dataclass(frozen=True)
class Scan:
    """One content prepared for the parsers."""

    content: str
    tools: ToolCatalog
    opaque: SpanSet
    fences: tuple[Fence, ...]
    skip: SpanSet  # opaque regions and every fenced block
    sure: bool  # the family is known for sure: its parser may apply its own, looser rules
    claimed: SpanSet = _NO_SPANS  # calls an earlier parser already found

    @classmethod
    def of(
        cls, content: str, tools: ToolCatalog, *, sure: bool = False, with_fences: bool = True
    ) -> Scan:
        opaque = opaque_spans(content)
        blocks = tuple(fences(content)) if with_fences else ()
        skip = SpanSet(opaque + [(fence.start, fence.end) for fence in blocks])
        return cls(content, tools, SpanSet(opaque), blocks, skip, sure)

    def free(self, position: int) -> bool:
        """Whether a call may start at ``position``."""
        if position in self.skip or position in self.claimed:
            return False
        return not quoted_inline(self.content, position)
