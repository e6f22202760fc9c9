"""GPT-OSS (harmony) calls: ``<|channel|>commentary to=functions.NAME <|constrain|>json
<|message|>{...}<|call|>``, and the form with the recipient in the role,
``<|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{...}``."""

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
from claw_lsp.llm.toolcalls.jsoncall import value_end
from claw_lsp.llm.toolcalls.regions import Scan

FAMILY = "harmony"
_CONSTRAIN = r"(?:\s*<\|constrain\|>\s*json|\s+json)?"
_RECIPIENT = rf"to=(?:functions\.)?({NAME_PATTERN})"
_CHANNEL = r"<\|channel\|>\s*(?:commentary|analysis)"
# One literal "<|" first (a fast scan), then the three header shapes; the name is the group
# that matched.
_HEADER = re.compile(
    rf"<\|(?:start\|>\s*assistant(?:\s*{_CHANNEL}\s+{_RECIPIENT}|\s+{_RECIPIENT}\s*{_CHANNEL})"
    rf"|channel\|>\s*(?:commentary|analysis)\s+{_RECIPIENT}){_CONSTRAIN}\s*<\|message\|>"
)
_TERMINATORS = ("<|call|>", "<|end|>")
_BOUNDARIES = (*_TERMINATORS, "<|start|>", "<|channel|>")


def _message(scan: Scan, header: re.Match[str]) -> Match | None:
    content = scan.content
    name = next((group for group in header.groups() if group), "")
    if name not in scan.tools:
        return None
    body = skip_spaces(content, header.end())
    end = value_end(content, body) if content.startswith("{", body) else None
    if end is None:  # no complete object: only a terminated message is a (broken) call
        ends = [e for e in (content.find(b, body) for b in _BOUNDARIES) if e != -1]
        end = min(ends) if ends else -1
        if end == -1 or not content.startswith(_TERMINATORS, end):
            return None
    arguments = parse_arguments(content[body:end])
    after = skip_spaces(content, end)
    block_end = next((after + len(t) for t in _TERMINATORS if content.startswith(t, after)), end)
    call = TextToolCall(name, arguments, content[header.start() : block_end], FAMILY)
    return Match(header.start(), block_end, (call,))


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if "to=" not in content or "<|" not in content:
        return []
    matches: list[Match] = []
    position = 0
    attempts = 0
    while attempts < MAX_CANDIDATE_ATTEMPTS:
        header = _HEADER.search(content, position)
        if header is None:
            break
        match = None
        if scan.free(header.start()):
            attempts += 1
            match = _message(scan, header)
        if match is None:
            position = header.start() + 1
            continue
        matches.append(match)
        position = match.end
    return matches
