"""Bare JSON: the whole reply (reasoning aside) is one call object or a list of them.

What every family falls back to without special tokens. Inside a fenced block (registry) the
same rule reads the fence body, which gives the fenced-JSON form.
"""

from __future__ import annotations

from claw_lsp.llm.toolcalls.core import Match
from claw_lsp.llm.toolcalls.jsoncall import HERMES_SHAPE, calls_from_json_text
from claw_lsp.llm.toolcalls.regions import Scan

FAMILY = "json"


def _segments(scan: Scan) -> list[tuple[int, int]]:
    """The stretches of content outside opaque regions that hold more than whitespace."""
    content = scan.content
    segments: list[tuple[int, int]] = []
    position = 0
    for start, end in [*scan.opaque.spans, (len(content), len(content))]:
        if content[position:start].strip():
            segments.append((position, start))
        position = max(position, end)
    return segments


def find(scan: Scan) -> list[Match]:
    content = scan.content
    stripped = content.lstrip()
    if not stripped.startswith(("{", "[")) and "}" not in content[-2048:]:
        return []  # quick rejection: no JSON value could be the whole reply
    segments = _segments(scan)
    if len(segments) != 1:
        return []
    start, end = segments[0]
    text = content[start:end]
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    bare = content[start:end]
    if not bare.startswith(("{", "[")):
        return []
    calls = calls_from_json_text(bare, HERMES_SHAPE, scan.tools, bare, FAMILY)
    return [Match(start, end, tuple(calls))] if calls else []
