"""Hermes / Qwen2.5 JSON calls and the alternates Hermes-trained models write.

- ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` (Hermes 2 Pro / 3, Qwen2.5, QwQ);
- the same object (or a list) in ``<tools>``, ``<function_call>``, ``<tool_calls>`` or
  ``<TOOLCALL>`` tags;
- ``<function name="NAME">`` holding a JSON object or ``<parameter name="KEY">`` elements.

Once the markup of a call to a known tool is unambiguous, broken arguments become a call whose
``arguments.error`` is set, so the model gets a tool error instead of silence.
"""

from __future__ import annotations

import re

from claw_lsp.llm.arguments import REPAIR_APPENDED_BRACE, ParsedArguments, parse_arguments
from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    NAME_PATTERN,
    Match,
    TextToolCall,
    invalid_arguments,
    invalid_markup,
    skip_spaces,
    valid,
)
from claw_lsp.llm.toolcalls.jsoncall import (
    HERMES_SHAPE,
    call_from_object,
    calls_from_json_text,
    value_end,
)
from claw_lsp.llm.toolcalls.regions import Scan
from claw_lsp.llm.toolcalls.values import text_value

FAMILY = "hermes"
TAGS = {
    "<tool_call>": "</tool_call>",
    "<tools>": "</tools>",
    "<function_call>": "</function_call>",
    "<tool_calls>": "</tool_calls>",
    "<TOOLCALL>": "</TOOLCALL>",
}
_CANDIDATE = re.compile(
    "<(?:" + "|".join(re.escape(tag[1:]) for tag in TAGS) + r"|function\s+name=)"
)
_NAMED_FUNCTION = re.compile(rf"<function\s+name=([\"']?)({NAME_PATTERN})\1\s*>")
_NAMED_PARAMETER = re.compile(rf"<parameter\s+name=([\"']?)({NAME_PATTERN})\1\s*>")
_FUNCTION_CLOSE = "</function>"
_PARAMETER_CLOSE = "</parameter>"
# The name at the start of a Hermes object, to report broken JSON as a tool error.
_NAME_PREFIX = re.compile(
    rf'\{{\s*"name"\s*:\s*"({NAME_PATTERN})"\s*,\s*"(?:arguments|parameters)"\s*:'
)


def _combine_repairs(outer: ParsedArguments, call: TextToolCall) -> TextToolCall:
    if outer.repair is None:
        return call
    if call.arguments.repair is not None:
        too_many = invalid_arguments("invalid arguments JSON: more than one repair needed")
        return TextToolCall(call.name, too_many, call.raw, FAMILY)
    if call.arguments.value is None:
        return call
    repaired = ParsedArguments(value=call.arguments.value, error=None, repair=outer.repair)
    return TextToolCall(call.name, repaired, call.raw, FAMILY)


def _object_call(scan: Scan, body: str, raw: str, *, terminated: bool) -> TextToolCall | None:
    outer = parse_arguments(body)
    if outer.value is None:
        named = _NAME_PREFIX.match(body.strip())
        if not terminated or named is None or named.group(1) not in scan.tools:
            return None
        return TextToolCall(named.group(1), ParsedArguments(None, outer.error, None), raw, FAMILY)
    if not terminated and outer.repair == REPAIR_APPENDED_BRACE:
        return None  # an unterminated block that needs mending is still being written
    call = call_from_object(outer.value, HERMES_SHAPE, scan.tools, raw, FAMILY)
    return None if call is None else _combine_repairs(outer, call)


def _extent(content: str, body_start: int, opening: str) -> tuple[int, int, bool]:
    """(body_end, block_end, terminated) for a JSON body starting at ``body_start``."""
    closing = TAGS[opening]
    object_end = value_end(content, body_start) or body_start
    # Searching from the end of a complete object lets the closing tag appear inside strings.
    close = content.find(closing, object_end)
    reopen = content.find(opening, object_end)
    if close != -1 and (reopen == -1 or close < reopen):
        return close, close + len(closing), True
    body_end = len(content) if reopen == -1 else reopen
    return body_end, body_end, False


def _tag_block(scan: Scan, open_at: int, opening: str) -> Match | None:
    content = scan.content
    position = skip_spaces(content, open_at + len(opening))
    if not content.startswith(("{", "["), position):
        return None  # <tool_call><function=...> is the Qwen3-Coder form, parsed elsewhere
    body_end, block_end, terminated = _extent(content, position, opening)
    raw = content[open_at:block_end]
    body = content[position:body_end]
    if content.startswith("[", position):
        if not terminated:
            return None
        calls = calls_from_json_text(body, HERMES_SHAPE, scan.tools, raw, FAMILY)
        return Match(open_at, block_end, tuple(calls)) if calls else None
    call = _object_call(scan, body, raw, terminated=terminated)
    return None if call is None else Match(open_at, block_end, (call,))


def _named_parameters(scan: Scan, name: str, start: int) -> tuple[ParsedArguments, int] | None:
    content = scan.content
    values: dict[str, object] = {}
    position = start
    while True:
        position = skip_spaces(content, position)
        if content.startswith(_FUNCTION_CLOSE, position):
            return valid(values), position + len(_FUNCTION_CLOSE)
        parameter = _NAMED_PARAMETER.match(content, position)
        close = content.find(_FUNCTION_CLOSE, position)
        if close == -1:
            return None
        if parameter is None:
            return invalid_markup("expected <parameter name=...> or </function>"), close + len(
                _FUNCTION_CLOSE
            )
        value_close = content.find(_PARAMETER_CLOSE, parameter.end())
        if value_close == -1:
            return None
        key = parameter.group(2)
        if key in values:
            return invalid_markup(f"parameter {key!r} given twice"), close + len(_FUNCTION_CLOSE)
        raw_value = content[parameter.end() : value_close]
        values[key] = text_value(raw_value, scan.tools.parameter_schema(name, key))
        position = value_close + len(_PARAMETER_CLOSE)


def _named_function(scan: Scan, open_at: int) -> Match | None:
    content = scan.content
    opening = _NAMED_FUNCTION.match(content, open_at)
    if opening is None or opening.group(2) not in scan.tools:
        return None
    name = opening.group(2)
    body = skip_spaces(content, opening.end())
    if content.startswith("{", body):
        end = value_end(content, body)
        after = skip_spaces(content, end) if end is not None else -1
        if end is None or not content.startswith(_FUNCTION_CLOSE, after):
            return None
        block_end = after + len(_FUNCTION_CLOSE)
        arguments = parse_arguments(content[body:end])
    else:
        parsed = _named_parameters(scan, name, body)
        if parsed is None:
            return None
        arguments, block_end = parsed
    call = TextToolCall(name, arguments, content[open_at:block_end], FAMILY)
    return Match(open_at, block_end, (call,))


def find(scan: Scan) -> list[Match]:
    content = scan.content
    matches: list[Match] = []
    position = attempts = 0
    while attempts < MAX_CANDIDATE_ATTEMPTS:
        candidate = _CANDIDATE.search(content, position)  # one pass for every opening tag
        if candidate is None:
            break
        start = candidate.start()
        match = None
        if scan.free(start):
            attempts += 1
            tag = candidate.group(0)
            match = _tag_block(scan, start, tag) if tag in TAGS else _named_function(scan, start)
        if match is None:
            position = start + 1
            continue
        matches.append(match)
        position = match.end
    return matches
