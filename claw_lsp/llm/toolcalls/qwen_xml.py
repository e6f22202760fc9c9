"""The ``<function=NAME>`` forms: Qwen3-Coder XML and the Functionary v3.1 JSON body.

- Qwen3-Coder: ``<tool_call><function=NAME><parameter=KEY>value</parameter></function>
  </tool_call>``; the ``<tool_call>`` wrapper may be missing, Seed-OSS writes
  ``<seed:tool_call>``. A missing ``</parameter>`` ends the value at the next declared
  ``<parameter=...>`` or at ``</function>``, so it neither swallows the next parameter nor loses
  the call. Values are typed by the tool's schema (values.py).
- Functionary v3.1 / Hermes 2 Pro / Llama 3.1 custom tools: ``<function=NAME>{"a": 1}</function>``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from claw_lsp.llm.arguments import ParsedArguments, parse_arguments
from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    NAME_PATTERN,
    Match,
    TextToolCall,
    invalid_markup,
    skip_spaces,
    valid,
)
from claw_lsp.llm.toolcalls.jsoncall import value_end
from claw_lsp.llm.toolcalls.regions import Scan
from claw_lsp.llm.toolcalls.values import text_value

FAMILY = "qwen3_coder"
JSON_BODY_FAMILY = "functionary"
_WRAPPERS = {"<tool_call>": "</tool_call>", "<seed:tool_call>": "</seed:tool_call>"}
_CANDIDATE = re.compile(r"<tool_call>|<seed:tool_call>|<function=")
_FUNCTION_OPEN = re.compile(rf"<function=({NAME_PATTERN})>")
_FUNCTION_CLOSE = "</function>"
_PARAMETER_OPEN = re.compile(rf"<parameter=({NAME_PATTERN})>")
_PARAMETER_CLOSE = "</parameter>"


def _next_parameter(scan: Scan, tool: str, start: int, limit: int, given: Collection[str]) -> int:
    """The next ``<parameter=KEY>`` before ``limit`` that can start a new value, else -1."""
    for candidate in _PARAMETER_OPEN.finditer(scan.content, start, limit):
        key = candidate.group(1)
        if key not in given and scan.tools.declares(tool, key) is not False:
            return candidate.start()
    return -1


def _value_extent(scan: Scan, tool: str, start: int, given: Collection[str]) -> tuple[int, int]:
    """(value_end, next_position) of a parameter value; (-1, -1) when it is cut off."""
    content = scan.content
    close = content.find(_PARAMETER_CLOSE, start)
    function_end = content.find(_FUNCTION_CLOSE, start)
    if close != -1 and function_end != -1 and function_end < close:
        later = content[function_end:close]
        if "<function=" in later or "</tool_call>" in later:
            close = -1  # that </parameter> belongs to a later call
    limit = close if close != -1 else len(content)
    following = _next_parameter(scan, tool, start, limit, given)
    if close != -1 and following == -1:
        return close, close + len(_PARAMETER_CLOSE)
    ends = [end for end in (following, function_end) if end != -1]
    if not ends:
        return -1, -1
    end = min(ends)
    return end, end


def _parameters(scan: Scan, tool: str, body_start: int) -> tuple[ParsedArguments, int] | None:
    """Parse parameters after ``<function=NAME>``; return (arguments, end) or None if cut off."""
    content = scan.content
    values: dict[str, Any] = {}
    position = body_start
    while True:
        position = skip_spaces(content, position)
        if content.startswith(_FUNCTION_CLOSE, position):
            return valid(values), position + len(_FUNCTION_CLOSE)
        parameter = _PARAMETER_OPEN.match(content, position)
        if parameter is None:
            close = content.find(_FUNCTION_CLOSE, position)
            if close == -1:
                return None
            reason = "expected <parameter=...> or </function>"
            return invalid_markup(reason), close + len(_FUNCTION_CLOSE)
        key = parameter.group(1)
        if key in values:
            close = content.find(_FUNCTION_CLOSE, parameter.end())
            end = len(content) if close == -1 else close + len(_FUNCTION_CLOSE)
            return invalid_markup(f"parameter {key!r} given twice"), end
        end, position = _value_extent(scan, tool, parameter.end(), {*values, key})
        if end == -1:
            return None
        raw_value = content[parameter.end() : end]
        values[key] = text_value(raw_value, scan.tools.parameter_schema(tool, key))


def _json_body(scan: Scan, body: int) -> tuple[ParsedArguments, int] | None:
    content = scan.content
    end = value_end(content, body)
    if end is not None:
        after = skip_spaces(content, end)
        if content.startswith(_FUNCTION_CLOSE, after):
            return parse_arguments(content[body:end]), after + len(_FUNCTION_CLOSE)
    close = content.find(_FUNCTION_CLOSE, body)
    if close == -1:
        return None  # still being written
    return parse_arguments(content[body:close]), close + len(_FUNCTION_CLOSE)


def _functions(scan: Scan, start: int) -> tuple[list[TextToolCall], int] | None:
    """One or more consecutive ``<function=...>`` blocks starting at ``start``."""
    content = scan.content
    calls: list[TextToolCall] = []
    position = start
    while True:
        function = _FUNCTION_OPEN.match(content, position)
        if function is None:
            break
        name = function.group(1)
        if name not in scan.tools:
            return None
        body = skip_spaces(content, function.end())
        json_body = content.startswith("{", body)
        parsed = _json_body(scan, body) if json_body else _parameters(scan, name, function.end())
        if parsed is None:
            return None
        arguments, position = parsed
        family = JSON_BODY_FAMILY if json_body else FAMILY
        calls.append(TextToolCall(name, arguments, content[function.start() : position], family))
        following = skip_spaces(content, position)
        if not _FUNCTION_OPEN.match(content, following):
            break
        position = following
    return (calls, position) if calls else None


def _wrapped(scan: Scan, open_at: int, opening: str) -> Match | None:
    content = scan.content
    position = skip_spaces(content, open_at + len(opening))
    if not _FUNCTION_OPEN.match(content, position):
        return None  # a JSON body is the Hermes form
    functions = _functions(scan, position)
    if functions is None:
        return None
    calls, end = functions
    closing = _WRAPPERS[opening]
    after = skip_spaces(content, end)
    if content.startswith(closing, after):
        end = after + len(closing)
    elif content[end:].strip() and not content.startswith(opening, after):
        return None  # junk between </function> and the closing tag: not what it claims to be
    raw = content[open_at:end]
    return Match(
        open_at, end, tuple(TextToolCall(c.name, c.arguments, raw, c.family) for c in calls)
    )


def _inside_wrapper(content: str, position: int) -> bool:
    # A <function=...> inside a <tool_call> block that failed to parse must not be rescued
    # on its own: the block as a whole did not match the form.
    return content.rfind("<tool_call>", 0, position) > content.rfind("</tool_call>", 0, position)


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if "<function=" not in content:
        return []
    matches: list[Match] = []
    position = 0
    attempts = 0
    while attempts < MAX_CANDIDATE_ATTEMPTS:
        candidate = _CANDIDATE.search(content, position)
        if candidate is None:
            break
        start = candidate.start()
        match: Match | None = None
        if scan.free(start):
            attempts += 1
            opening = candidate.group(0)
            if opening in _WRAPPERS:
                match = _wrapped(scan, start, opening)
            elif not _inside_wrapper(content, start):
                functions = _functions(scan, start)
                if functions is not None:
                    match = Match(start, functions[1], tuple(functions[0]))
        if match is None:
            position = start + 1
            continue
        matches.append(match)
        position = match.end
    return matches
