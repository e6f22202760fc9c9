"""Cohere Command R calls: ``Action: ```json [{"tool_name": ..., "parameters": {...}}] ```
`` (Command R / R+), and ``<|START_ACTION|>[{"tool_call_id": "0", "tool_name": ...,
"parameters": {...}}]<|END_ACTION|>`` (Command R7B)."""

from __future__ import annotations

import re

from claw_lsp.llm.toolcalls.core import MAX_CANDIDATE_ATTEMPTS, Match
from claw_lsp.llm.toolcalls.jsoncall import COMMAND_R_SHAPE, calls_from_json_text
from claw_lsp.llm.toolcalls.regions import Scan

FAMILY = "command_r"
START_ACTION = "<|START_ACTION|>"
END_ACTION = "<|END_ACTION|>"
_ACTION = re.compile(
    r"^[ \t]*Action:[ \t]*\n?[ \t]*```[ \t]*(?:json)?[ \t]*\n(?P<body>.*?)\n?[ \t]*```",
    re.DOTALL | re.MULTILINE,
)


def _tagged(scan: Scan) -> list[Match]:
    content = scan.content
    matches: list[Match] = []
    position = content.find(START_ACTION)
    attempts = 0
    while position != -1 and attempts < MAX_CANDIDATE_ATTEMPTS:
        close = content.find(END_ACTION, position)
        if close == -1:
            break  # still being written
        end = close + len(END_ACTION)
        if scan.free(position):
            attempts += 1
            body = content[position + len(START_ACTION) : close]
            raw = content[position:end]
            calls = calls_from_json_text(body, COMMAND_R_SHAPE, scan.tools, raw, FAMILY)
            if calls:
                matches.append(Match(position, end, tuple(calls)))
        position = content.find(START_ACTION, end)
    return matches


def _actions(scan: Scan) -> list[Match]:
    content = scan.content
    matches: list[Match] = []
    for attempt, action in enumerate(_ACTION.finditer(content)):
        if attempt >= MAX_CANDIDATE_ATTEMPTS:
            break
        start = action.start() + len(action.group(0)) - len(action.group(0).lstrip())
        if action.start() in scan.opaque:
            continue
        calls = calls_from_json_text(
            action.group("body"), COMMAND_R_SHAPE, scan.tools, action.group(0), FAMILY
        )
        if calls:
            matches.append(Match(start, action.end(), tuple(calls)))
    return matches


def find(scan: Scan) -> list[Match]:
    content = scan.content
    found: list[Match] = []
    if START_ACTION in content:
        found += _tagged(scan)
    if "Action:" in content and "```" in content:
        found += _actions(scan)
    return found
