"""Regions of assistant content that are never parsed for calls, and the fenced blocks.

Reasoning (``<think>``, ``[THINK]``, harmony's analysis channel ...) and tool results the model
echoes or invents (``<tool_response>`` ...) are opaque: a call written there is never run. Fenced
code blocks are parsed only as a whole (see registry) and never when the text before them says
they are an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
# Qwen3 templates put the opening <think> into the prompt, so the reply only closes it.
_FORCED_OPEN_CLOSE = "</think>"
_HARMONY_ANALYSIS = "<|channel|>analysis"
_HARMONY_MESSAGE = "<|message|>"
_HARMONY_ENDS = ("<|end|>", "<|start|>", "<|channel|>", "<|call|>")

_FENCED_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)"
    # A closing fence may carry a special token after it (DeepSeek: ```<｜tool▁call▁end｜>).
    r"(?:(?P<close>^[ \t]*(?P=fence)(?=[ \t]*(?:$|<)))|\Z)",
    re.DOTALL | re.MULTILINE,
)
# Fence languages that may hold a call; any other language is code, never a call.
CALL_FENCE_LANGUAGES = frozenset({"", "json", "tool_call", "tool_calls", "xml", "tool_code"})
# Words right before a fence that make it plainly an example, not a call.
_EXAMPLE_CUE = re.compile(
    r"\b(?:for example|for instance|e\.g\.|examples?|sample|format|syntax|template|"
    r"looks? like|would look|such as|documentation|schema)\b",
    re.IGNORECASE,
)
_CUE_WINDOW_CHARS = 200


@dataclass(frozen=True)
class Fence:
    start: int
    end: int
    info: str
    body: str
    terminated: bool
    example: bool

    @property
    def may_hold_call(self) -> bool:
        return self.terminated and not self.example and self.info in CALL_FENCE_LANGUAGES


def _region_spans(content: str, pairs: tuple[tuple[str, str], ...]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for opening, closing in pairs:
        position = content.find(opening)
        while position != -1:
            close = content.find(closing, position + len(opening))
            end = len(content) if close == -1 else close + len(closing)
            spans.append((position, end))
            position = content.find(opening, end)
    return spans


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
    spans = _region_spans(content, _OPAQUE) + _harmony_analysis_spans(content)
    close = content.find(_FORCED_OPEN_CLOSE)
    if close != -1 and not any(start < close for start, _ in spans):
        spans.append((0, close + len(_FORCED_OPEN_CLOSE)))
    return spans


def is_example(content: str, start: int) -> bool:
    """Whether the line or two before ``start`` say that what follows is an example."""
    before = content[max(0, start - _CUE_WINDOW_CHARS) : start].rstrip()
    lines = [line for line in before.splitlines() if line.strip()]
    return bool(lines) and _EXAMPLE_CUE.search("\n".join(lines[-2:])) is not None


def fences(content: str) -> list[Fence]:
    if "```" not in content and "~~~" not in content:
        return []
    found: list[Fence] = []
    for block in _FENCED_BLOCK.finditer(content):
        terminated = block["close"] is not None
        body = block["body"]
        if terminated:  # the body group stops before the closing fence line
            body = body.removesuffix("\n")
        found.append(
            Fence(
                start=block.start(),
                end=block.end(),
                info=block["info"].strip().lower(),
                body=body,
                terminated=terminated,
                example=is_example(content, block.start()),
            )
        )
    return found


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
        return position not in self.skip and not quoted_inline(self.content, position)
