"""Llama 3.x JSON calls: ``{"name": ..., "parameters": {...}}``, after ``<|python_tag|>`` or
on a line of their own, several separated by ``;`` or line breaks.

Without the tag an object must have its line to itself and not follow "for example"; when the
family is known for sure (Llama 3.x narrates around its calls: "Here is the result: {...}") it
may also start or end mid-line.
"""

from __future__ import annotations

import re

from claw_lsp.llm.toolcalls.core import MAX_CANDIDATE_ATTEMPTS, Match, TextToolCall, skip_spaces
from claw_lsp.llm.toolcalls.jsoncall import LLAMA_SHAPE, call_from_object, decode_at, with_raw
from claw_lsp.llm.toolcalls.regions import Scan, inside_call_tag, is_example

FAMILY = "llama3"
PYTHON_TAG = "<|python_tag|>"
_JSON_START = re.compile(r'\{\s*"name"\s*:\s*"([^"\\]*)"')
_END_TOKENS = ("<|eom_id|>", "<|eot_id|>")


def _at_line_start(content: str, position: int) -> bool:
    line_start = content.rfind("\n", 0, position) + 1
    return not content[line_start:position].strip()


def _call_at(scan: Scan, position: int) -> tuple[TextToolCall, int] | None:
    decoded = decode_at(scan.content, position)
    if decoded is None:
        return None
    value, end = decoded
    call = call_from_object(value, LLAMA_SHAPE, scan.tools, scan.content[position:end], FAMILY)
    return None if call is None else (call, end)


def _line_ends(content: str, position: int) -> bool:
    line_end = content.find("\n", position)
    return not content[position : len(content) if line_end == -1 else line_end].strip()


def _sequence(scan: Scan, start: int, first: int, *, alone: bool) -> Match | None:
    content = scan.content
    found = _call_at(scan, first)
    if found is None:
        return None
    calls = [found[0]]
    end = found[1]
    while True:  # further calls separated by ';' and/or whitespace
        following = skip_spaces(content, end)
        if content.startswith(";", following):
            following = skip_spaces(content, following + 1)
        if not content.startswith("{", following):
            break
        more = _call_at(scan, following)
        if more is None:
            break
        calls.append(more[0])
        end = more[1]
    after = skip_spaces(content, end)
    for token in _END_TOKENS:
        if content.startswith(token, after):
            end = after + len(token)
    if alone and not _line_ends(content, end):
        return None  # an object followed by prose on its line reads as a quotation
    return Match(start, end, with_raw(calls, content[start:end]))


def _candidates(scan: Scan) -> list[tuple[int, int, bool]]:
    """(start, first object, tagged) in order. Two scans: a regex whose first character is a
    literal is fast, an alternation of different first characters is not. An object naming no
    offered tool is no candidate (its name is read before any JSON is decoded)."""
    content = scan.content
    found = [
        (m.start(), m.start(), False)
        for m in _JSON_START.finditer(content)
        if m.group(1) in scan.tools
    ]
    position = content.find(PYTHON_TAG)
    while position != -1:
        found.append((position, skip_spaces(content, position + len(PYTHON_TAG)), True))
        position = content.find(PYTHON_TAG, position + 1)
    return sorted(found)


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if PYTHON_TAG not in content and '"name"' not in content:
        return []
    matches: list[Match] = []
    position = attempts = 0
    for start, first, tagged in _candidates(scan):
        if start < position or attempts >= MAX_CANDIDATE_ATTEMPTS:
            continue
        loose = tagged or scan.sure
        if not scan.free(start) or not (loose or _at_line_start(content, start)):
            continue
        attempts += 1
        match = _sequence(scan, start, first, alone=not loose)
        # Context checks last: they look back over the content, most candidates fail sooner.
        if match is None or (
            not tagged and (is_example(content, start) or inside_call_tag(content, start))
        ):
            continue
        matches.append(match)
        position = match.end
    return matches
