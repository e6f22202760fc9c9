"""Mistral calls, leaked as text when the server runs without ``--tool-call-parser mistral``.

- v3 tokenizer (Mistral 7B v0.3, Nemo, Mixtral): ``[TOOL_CALLS][{"name": ..., "arguments":
  {...}, "id": "a1b2c3d4e"}]``;
- v11+ (Mistral Small 3.x, Devstral, Magistral): ``[TOOL_CALLS]NAME[ARGS]{...}``, also
  ``[TOOL_CALLS]NAME[CALL_ID]ID[ARGS]{...}`` and the early ``[TOOL_CALLS]NAME{...}``.
"""

from __future__ import annotations

import re

from claw_lsp.llm.arguments import parse_arguments
from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    NAME_PATTERN,
    Match,
    TextToolCall,
    skip_spaces,
)
from claw_lsp.llm.toolcalls.jsoncall import MISTRAL_SHAPE, calls_from_value, decode_at, value_end
from claw_lsp.llm.toolcalls.regions import Scan

FAMILY = "mistral"
MARKER = "[TOOL_CALLS]"
_NAMED = re.compile(
    rf"\s*({NAME_PATTERN})(?:\[CALL_ID\]\s*([\w-]+))?\s*(\[ARGS\])?\s*(?=\{{)", re.ASCII
)


def _listed(scan: Scan, start: int, body: int) -> Match | None:
    decoded = decode_at(scan.content, body)
    if decoded is None:
        return None
    value, end = decoded
    raw = scan.content[start:end]
    calls = calls_from_value(value, MISTRAL_SHAPE, scan.tools, raw, FAMILY)
    return Match(start, end, tuple(calls)) if calls else None


def _named(scan: Scan, start: int, body: int) -> Match | None:
    content = scan.content
    header = _NAMED.match(content, body)
    if header is None or header.group(1) not in scan.tools:
        return None
    arguments_at = header.end()
    end = value_end(content, arguments_at)
    if end is None:  # broken JSON after unambiguous markup: a tool error, not silence
        following = content.find(MARKER, arguments_at)
        end = len(content) if following == -1 else following
    arguments = parse_arguments(content[arguments_at:end])
    call = TextToolCall(header.group(1), arguments, content[start:end], FAMILY)
    return Match(start, end, (call,))


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if MARKER not in content:
        return []
    matches: list[Match] = []
    position = content.find(MARKER)
    attempts = 0
    while position != -1 and attempts < MAX_CANDIDATE_ATTEMPTS:
        match = None
        if scan.free(position):
            attempts += 1
            body = skip_spaces(content, position + len(MARKER))
            if content.startswith(("[", "{"), body):
                match = _listed(scan, position, body)
            else:
                match = _named(scan, position, position + len(MARKER))
        if match is not None:
            matches.append(match)
        position = content.find(MARKER, match.end if match else position + 1)
    return matches
