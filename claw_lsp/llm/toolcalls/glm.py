"""GLM-4.5 / 4.6 / 4.7 calls: ``<tool_call>NAME`` then ``<arg_key>K</arg_key>
<arg_value>V</arg_value>`` pairs, then ``</tool_call>``. Values are typed by the schema."""

from __future__ import annotations

import re
from typing import Any

from claw_lsp.llm.arguments import ParsedArguments
from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    NAME_PATTERN,
    Match,
    TextToolCall,
    invalid_markup,
    skip_spaces,
    valid,
)
from claw_lsp.llm.toolcalls.regions import Scan
from claw_lsp.llm.toolcalls.values import text_value

FAMILY = "glm"
_OPEN = re.compile(rf"<tool_call>[ \t]*({NAME_PATTERN})\s*(?=<arg_key>|</tool_call>)")
_CLOSE = "</tool_call>"
_KEY = re.compile(rf"<arg_key>\s*({NAME_PATTERN})\s*</arg_key>\s*<arg_value>")
_VALUE_CLOSE = "</arg_value>"


def _arguments(scan: Scan, name: str, start: int, close: int) -> ParsedArguments:
    content = scan.content
    values: dict[str, Any] = {}
    position = start
    while True:
        position = skip_spaces(content, position)
        if position >= close:
            return valid(values)
        key = _KEY.match(content, position, close)
        if key is None:
            return invalid_markup("expected <arg_key>...</arg_key><arg_value>...</arg_value>")
        value_close = content.find(_VALUE_CLOSE, key.end(), close)
        if value_close == -1:
            return invalid_markup("an <arg_value> is not closed")
        parameter = key.group(1)
        if parameter in values:
            return invalid_markup(f"parameter {parameter!r} given twice")
        raw_value = content[key.end() : value_close]
        values[parameter] = text_value(raw_value, scan.tools.parameter_schema(name, parameter))
        position = value_close + len(_VALUE_CLOSE)


def _block(scan: Scan, start: int) -> Match | None:
    content = scan.content
    opening = _OPEN.match(content, start)
    if opening is None or opening.group(1) not in scan.tools:
        return None
    close = content.find(_CLOSE, opening.end())
    if close == -1:
        return None  # still being written (or cut off): never run half a call
    # A value may hold "</tool_call>" only inside a closed <arg_value>: find the real end.
    while True:
        last_value = content.rfind(_VALUE_CLOSE, opening.end(), close)
        last_open = content.rfind("<arg_value>", opening.end(), close)
        if last_open <= last_value:
            break
        following = content.find(_CLOSE, close + len(_CLOSE))
        if following == -1:
            return None
        close = following
    name = opening.group(1)
    end = close + len(_CLOSE)
    arguments = _arguments(scan, name, opening.end(), close)
    return Match(start, end, (TextToolCall(name, arguments, content[start:end], FAMILY),))


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if "<tool_call>" not in content:
        return []
    matches: list[Match] = []
    position = content.find("<tool_call>")
    attempts = 0
    while position != -1 and attempts < MAX_CANDIDATE_ATTEMPTS:
        match = None
        if scan.free(position):
            attempts += 1
            match = _block(scan, position)
        if match is not None:
            matches.append(match)
        position = content.find("<tool_call>", match.end if match else position + 1)
    return matches
