"""Families that wrap calls in special-token sections, one table entry each:

- DeepSeek R1 / V3: ``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
  ```json {...} ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>``; V3.1:
  ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`` (ASCII ``|`` and ``_`` are
  accepted for the full-width bar and ``▁``, which some servers print);
- Kimi K2: ``<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0
  <|tool_call_argument_begin|>{...}<|tool_call_end|><|tool_calls_section_end|>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claw_lsp.llm.arguments import parse_arguments
from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    NAME_PATTERN,
    Match,
    TextToolCall,
    skip_spaces,
)
from claw_lsp.llm.toolcalls.jsoncall import value_end, with_raw
from claw_lsp.llm.toolcalls.regions import Scan


def _deepseek_token(words: str) -> str:
    return "<[｜|]" + r"[▁_]".join(words.split()) + "[｜|]>"


@dataclass(frozen=True)
class SectionSpec:
    family: str
    openers: tuple[str, ...]  # literal markers, for quick rejection and the stream filter
    section_begin: re.Pattern[str]
    section_end: re.Pattern[str]
    call_begin: re.Pattern[str]
    call_end: re.Pattern[str]
    header: re.Pattern[str]  # right after call_begin, up to the arguments; names the tool


_DS_SEP = _deepseek_token("tool sep")
DEEPSEEK = SectionSpec(
    family="deepseek",
    openers=("<｜tool▁call", "<|tool▁call", "<|tool_call_begin|>"),
    section_begin=re.compile(_deepseek_token("tool calls begin")),
    section_end=re.compile(_deepseek_token("tool calls end")),
    call_begin=re.compile(_deepseek_token("tool call begin")),
    call_end=re.compile(_deepseek_token("tool call end")),
    header=re.compile(
        rf"\s*(?:function\s*{_DS_SEP}\s*({NAME_PATTERN})|({NAME_PATTERN})\s*{_DS_SEP})\s*"
    ),
)
KIMI_K2 = SectionSpec(
    family="kimi_k2",
    openers=("<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"),
    section_begin=re.compile(r"<\|tool_calls?_section_begin\|>"),
    section_end=re.compile(r"<\|tool_calls?_section_end\|>"),
    call_begin=re.compile(r"<\|tool_call_begin\|>"),
    call_end=re.compile(r"<\|tool_call_end\|>"),
    header=re.compile(
        rf"\s*(?:functions\.)?({NAME_PATTERN})(?::\d+)?\s*<\|tool_call_argument_begin\|>\s*"
    ),
)
_FENCE_OPEN = re.compile(r"```[ \t]*(?:json)?[ \t]*\n?")
_FENCE_CLOSE = re.compile(r"\s*```")


def _arguments_extent(content: str, start: int, spec: SectionSpec) -> tuple[int, int, int] | None:
    """(arguments_start, arguments_end, call_end) after a header, None if not complete."""
    fence = _FENCE_OPEN.match(content, start)
    body = fence.end() if fence else start
    end = value_end(content, body) if content.startswith("{", body) else None
    if end is not None:
        after = end
        if fence:
            closing = _FENCE_CLOSE.match(content, after)
            if closing is None:
                end = None
            else:
                after = closing.end()
        if end is not None:
            call_end = spec.call_end.match(content, skip_spaces(content, after))
            if call_end is not None:
                return body, end, call_end.end()
    # No complete object: a closed call with broken arguments is a tool error, not silence.
    call_end = spec.call_end.search(content, body)
    if call_end is None:
        return None
    arguments_end = call_end.start()
    if fence:
        text = content[body:arguments_end].rstrip()
        arguments_end = body + len(text.removesuffix("```").rstrip())
    return body, arguments_end, call_end.end()


def _call(scan: Scan, spec: SectionSpec, begin: re.Match[str]) -> tuple[TextToolCall, int] | None:
    content = scan.content
    header = spec.header.match(content, begin.end())
    if header is None:
        return None
    name = next((group for group in header.groups() if group), "")
    if name not in scan.tools:
        return None
    extent = _arguments_extent(content, header.end(), spec)
    if extent is None:
        return None
    body, arguments_end, end = extent
    arguments = parse_arguments(content[body:arguments_end])
    return TextToolCall(name, arguments, content[begin.start() : end], spec.family), end


def _section(scan: Scan, spec: SectionSpec, first: re.Match[str]) -> Match | None:
    content = scan.content
    calls: list[TextToolCall] = []
    begin: re.Match[str] | None = first
    end = first.start()
    while begin is not None:
        found = _call(scan, spec, begin)
        if found is None:
            return None  # a section with one unreadable call is not taken apart
        calls.append(found[0])
        end = found[1]
        begin = spec.call_begin.match(content, skip_spaces(content, end))
    start = first.start()
    opened = None
    for candidate in spec.section_begin.finditer(content, max(0, start - 64), start):
        if not content[candidate.end() : start].strip():
            opened = candidate
    if opened is not None:
        start = opened.start()
    closing = spec.section_end.match(content, skip_spaces(content, end))
    if closing is not None:
        end = closing.end()
    return Match(start, end, with_raw(calls, content[start:end]))


def find(scan: Scan, spec: SectionSpec) -> list[Match]:
    content = scan.content
    if not any(opener in content for opener in spec.openers):
        return []
    matches: list[Match] = []
    position = 0
    attempts = 0
    while attempts < MAX_CANDIDATE_ATTEMPTS:
        begin = spec.call_begin.search(content, position)
        if begin is None:
            break
        match = None
        if scan.free(begin.start()):
            attempts += 1
            match = _section(scan, spec, begin)
        if match is None:
            position = begin.end()
            continue
        matches.append(match)
        position = match.end
    return matches


def find_deepseek(scan: Scan) -> list[Match]:
    return find(scan, DEEPSEEK)


def find_kimi(scan: Scan) -> list[Match]:
    return find(scan, KIMI_K2)
