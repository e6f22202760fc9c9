"""Recover tool calls that a local model wrote as text in its own ``content``.

Used only on the assistant's content when the response carried no structured ``tool_calls``
(SECURITY.md BF-09); the caller must never pass tool results or file content here. Recovered
calls go through the same schema validation and approval as structured ones.

Recognised forms, all strictly:

- Hermes / Qwen2.5: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``;
- Qwen3-Coder XML: ``<tool_call><function=NAME><parameter=KEY>value</parameter></function>
  </tool_call>`` (the ``<tool_call>`` wrapper may be missing);
- a fenced block (```json, ```tool_call or a bare fence) holding only a call object or a list;
- bare JSON: the whole content is one call object or a list of them.

Never parsed: ``<think>`` reasoning, tags quoted in fenced blocks or right after a backtick, and
calls to tool names not in ``known_tools``. Once the markup of a call to a known tool is
unambiguous, broken arguments become a call whose ``arguments.error`` is set, so the model
gets a tool error instead of silence.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from claw_lsp.llm.arguments import REPAIR_APPENDED_BRACE, ParsedArguments, parse_arguments

# Bounds for hostile or runaway output (BF-16): past them the content stays plain text.
MAX_CONTENT_CHARS = 2_000_000
_MAX_CANDIDATE_ATTEMPTS = 256

_TOOL_CALL_OPEN = "<tool_call>"
_TAG_CANDIDATE = re.compile(r"<tool_call>|<function=")
_TOOL_CALL_CLOSE = re.compile(r"\s*</tool_call>")
_FUNCTION_OPEN = re.compile(r"<function=([A-Za-z_][\w.-]*)>")
_FUNCTION_CLOSE = "</function>"
_PARAMETER_OPEN = re.compile(r"<parameter=([A-Za-z_][\w.-]*)>")
_PARAMETER_CLOSE = "</parameter>"
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_THINK_CLOSE = "</think>"
_FENCED_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)"
    r"(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_CALL_FENCE_LANGUAGES = frozenset({"", "json", "tool_call"})
# The name at the start of a Hermes object, to report broken JSON as a tool error.
_HERMES_NAME_PREFIX = re.compile(
    r'\{\s*"name"\s*:\s*"([A-Za-z_][\w.-]*)"\s*,\s*"(?:arguments|parameters)"\s*:'
)
_JSON_LOOKING_VALUE = re.compile(r"-?\d[\d.eE+-]*|true|false|null|[\[{].*", re.DOTALL)
_RAW_DECODER = json.JSONDecoder(strict=False)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


# Ambiguous JSON (duplicate keys, NaN) in a fenced/bare/XML value is left as text, not guessed.
_STRICT_VALUE_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant, strict=False
)
_CALL_KEY_SETS = (
    frozenset({"name"}),
    frozenset({"name", "arguments"}),
    frozenset({"name", "parameters"}),
)


@dataclass(frozen=True)
class TextToolCall:
    """One tool call recovered from assistant text."""

    name: str
    arguments: ParsedArguments
    raw: str  # the matched source text


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    calls: list[TextToolCall]


def _invalid_markup(reason: str) -> ParsedArguments:
    return ParsedArguments(value=None, error=f"invalid tool call markup: {reason}", repair=None)


# --- regions that are never parsed -----------------------------------------------------------


def _think_spans(content: str) -> list[tuple[int, int]]:
    spans = [(match.start(), match.end()) for match in _THINK_BLOCK.finditer(content)]
    # Qwen3 templates put the opening <think> into the prompt, so the reply only closes it.
    close = content.find(_THINK_CLOSE)
    if close != -1 and (not spans or close < spans[0][0]):
        spans.insert(0, (0, close + len(_THINK_CLOSE)))
    return spans


def _fenced_spans(content: str) -> list[tuple[int, int]]:
    return [(match.start(), match.end()) for match in _FENCED_BLOCK.finditer(content)]


def _quoted_inline(content: str, position: int) -> bool:
    # `<tool_call>...` in prose is a quotation. Only the adjacent backtick counts: pairing
    # backticks across the line would let a backtick inside one call's arguments hide the next.
    return position > 0 and content[position - 1] == "`"


class _SpanSet:
    """Half-open spans with a logarithmic membership test (content may hold many of them)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, int):
            return False
        index = bisect.bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]


# --- parameter typing for the XML form -------------------------------------------------------


def _parameters_schema(known_tools: Collection[str], name: str) -> Mapping[str, Any] | None:
    if not isinstance(known_tools, Mapping):
        return None
    schema = known_tools.get(name)
    if not isinstance(schema, Mapping):
        return None
    function = schema.get("function")
    if isinstance(function, Mapping):  # a full OpenAI tool definition
        schema = function.get("parameters")
    return schema if isinstance(schema, Mapping) else None


def _declared_type(schema: Mapping[str, Any] | None, parameter: str) -> Any:
    if schema is None:
        return None
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not isinstance(properties.get(parameter), Mapping):
        return None
    return properties[parameter].get("type")


def _xml_value(raw_value: str, declared_type: Any) -> Any:
    value = raw_value.removeprefix("\r\n") if raw_value.startswith("\r\n") else raw_value
    value = value.removeprefix("\n")
    value = value.removesuffix("\r\n") if value.endswith("\r\n") else value.removesuffix("\n")
    # XML carries no types. A declared string stays text (a JSON file is valid file content);
    # otherwise JSON-looking values are decoded and the schema validator decides.
    if declared_type == "string" or _JSON_LOOKING_VALUE.fullmatch(value.strip()) is None:
        return value
    try:
        return _STRICT_VALUE_DECODER.decode(value.strip())
    except (ValueError, RecursionError):
        return value


# --- Qwen3-Coder XML form --------------------------------------------------------------------


def _parse_function_body(
    content: str, body_start: int, schema: Mapping[str, Any] | None
) -> tuple[ParsedArguments, int] | None:
    """Parse parameters after ``<function=NAME>``; return (arguments, end) or None if cut off."""
    values: dict[str, Any] = {}
    position = body_start
    while True:
        while position < len(content) and content[position].isspace():
            position += 1
        if content.startswith(_FUNCTION_CLOSE, position):
            return ParsedArguments(value=values, error=None, repair=None), position + len(
                _FUNCTION_CLOSE
            )
        parameter = _PARAMETER_OPEN.match(content, position)
        if parameter is None:
            close = content.find(_FUNCTION_CLOSE, position)
            if close == -1:
                return None
            return _invalid_markup("expected <parameter=...> or </function>"), close + len(
                _FUNCTION_CLOSE
            )
        value_end = content.find(_PARAMETER_CLOSE, parameter.end())
        if value_end == -1:
            return None
        key = parameter.group(1)
        if key in values:
            close = content.find(_FUNCTION_CLOSE, value_end)
            end = len(content) if close == -1 else close + len(_FUNCTION_CLOSE)
            return _invalid_markup(f"parameter {key!r} given twice"), end
        raw_value = content[parameter.end() : value_end]
        values[key] = _xml_value(raw_value, _declared_type(schema, key))
        position = value_end + len(_PARAMETER_CLOSE)


def _parse_functions(
    content: str, start: int, known_tools: Collection[str]
) -> tuple[list[TextToolCall], int] | None:
    """Parse one or more consecutive ``<function=...>`` blocks starting at ``start``."""
    calls: list[TextToolCall] = []
    position = start
    while True:
        function = _FUNCTION_OPEN.match(content, position)
        if function is None:
            break
        name = function.group(1)
        if name not in known_tools:
            return None
        parsed = _parse_function_body(
            content, function.end(), _parameters_schema(known_tools, name)
        )
        if parsed is None:
            return None
        arguments, position = parsed
        calls.append(TextToolCall(name, arguments, content[function.start() : position]))
        following = position
        while following < len(content) and content[following].isspace():
            following += 1
        if not _FUNCTION_OPEN.match(content, following):
            break
        position = following
    return (calls, position) if calls else None


# --- Hermes JSON form ------------------------------------------------------------------------


def _call_from_object(obj: Any, known_tools: Collection[str], raw: str) -> TextToolCall | None:
    """A call when ``obj`` is exactly {name, arguments|parameters} for a known tool."""
    if not isinstance(obj, dict) or frozenset(obj) not in _CALL_KEY_SETS:
        return None
    name = obj["name"]
    if not isinstance(name, str) or name not in known_tools:
        return None
    arguments = obj.get("arguments", obj.get("parameters"))
    if arguments is None or isinstance(arguments, str | dict):
        return TextToolCall(name, parse_arguments(arguments), raw)
    invalid = ParsedArguments(value=None, error="arguments must be a JSON object", repair=None)
    return TextToolCall(name, invalid, raw)


def _combine_repairs(outer: ParsedArguments, call: TextToolCall) -> TextToolCall:
    if outer.repair is None:
        return call
    if call.arguments.repair is not None:
        too_many = ParsedArguments(
            value=None, error="invalid arguments JSON: more than one repair needed", repair=None
        )
        return TextToolCall(call.name, too_many, call.raw)
    if call.arguments.value is None:
        return call
    repaired = ParsedArguments(value=call.arguments.value, error=None, repair=outer.repair)
    return TextToolCall(call.name, repaired, call.raw)


def _parse_hermes_body(
    body: str, known_tools: Collection[str], raw: str, *, terminated: bool
) -> TextToolCall | None:
    outer = parse_arguments(body)
    if outer.value is None:
        named = _HERMES_NAME_PREFIX.match(body.strip())
        if not terminated or named is None or named.group(1) not in known_tools:
            return None
        return TextToolCall(named.group(1), ParsedArguments(None, outer.error, None), raw)
    if not terminated and outer.repair == REPAIR_APPENDED_BRACE:
        return None  # an unterminated block that needs mending is still being written
    call = _call_from_object(outer.value, known_tools, raw)
    return None if call is None else _combine_repairs(outer, call)


def _hermes_extent(content: str, body_start: int) -> tuple[int, int, bool]:
    """(body_end, block_end, terminated) for a JSON body starting at ``body_start``."""
    try:
        object_end = _RAW_DECODER.raw_decode(content, body_start)[1]
    except (json.JSONDecodeError, RecursionError):
        object_end = body_start
    # Searching from the end of a complete object lets "</tool_call>" appear inside strings.
    close = content.find("</tool_call>", object_end)
    reopen = content.find(_TOOL_CALL_OPEN, object_end)
    if close != -1 and (reopen == -1 or close < reopen):
        return close, close + len("</tool_call>"), True
    body_end = len(content) if reopen == -1 else reopen
    return body_end, body_end, False


def _parse_tool_call_block(
    content: str, open_at: int, known_tools: Collection[str]
) -> _Match | None:
    position = open_at + len(_TOOL_CALL_OPEN)
    while position < len(content) and content[position].isspace():
        position += 1
    if _FUNCTION_OPEN.match(content, position):
        functions = _parse_functions(content, position, known_tools)
        if functions is None:
            return None
        calls, end = functions
        close = _TOOL_CALL_CLOSE.match(content, end)
        if close is not None:
            end = close.end()
        elif content[end:].strip() and not content.startswith(_TOOL_CALL_OPEN, end):
            # Junk between </function> and </tool_call>: markup is not what it claims to be.
            return None
        raw = content[open_at:end]
        return _Match(open_at, end, [TextToolCall(c.name, c.arguments, raw) for c in calls])
    if not content.startswith("{", position):
        return None
    body_end, block_end, terminated = _hermes_extent(content, position)
    raw = content[open_at:block_end]
    call = _parse_hermes_body(content[position:body_end], known_tools, raw, terminated=terminated)
    return None if call is None else _Match(open_at, block_end, [call])


def _inside_tool_call_tags(content: str, position: int) -> bool:
    # A <function=...> inside a <tool_call> block that failed to parse must not be rescued
    # on its own: the block as a whole did not match the form.
    return content.rfind(_TOOL_CALL_OPEN, 0, position) > content.rfind("</tool_call>", 0, position)


def _tag_matches(content: str, known_tools: Collection[str], skip: _SpanSet) -> list[_Match]:
    matches: list[_Match] = []
    position = 0
    attempts = 0
    while attempts < _MAX_CANDIDATE_ATTEMPTS:
        candidate = _TAG_CANDIDATE.search(content, position)
        if candidate is None:
            break
        start = candidate.start()
        match: _Match | None = None
        if start not in skip and not _quoted_inline(content, start):
            attempts += 1
            if candidate.group(0) == _TOOL_CALL_OPEN:
                match = _parse_tool_call_block(content, start, known_tools)
            elif not _inside_tool_call_tags(content, start):
                functions = _parse_functions(content, start, known_tools)
                if functions is not None:
                    match = _Match(start, functions[1], functions[0])
        if match is None:
            position = start + 1
            continue
        matches.append(match)
        position = match.end
    return matches


# --- fenced and bare JSON forms --------------------------------------------------------------


def _calls_from_json_text(text: str, known_tools: Collection[str], raw: str) -> list[TextToolCall]:
    """Calls when ``text`` is exactly one call object or a non-empty list of them, else []."""
    try:
        decoded = _STRICT_VALUE_DECODER.decode(text.strip())
    except (ValueError, RecursionError):
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    calls = [_call_from_object(item, known_tools, raw) for item in items]
    if not calls or any(call is None for call in calls):
        return []
    return [call for call in calls if call is not None]


def _fenced_matches(content: str, known_tools: Collection[str], skip: _SpanSet) -> Iterator[_Match]:
    for fence in _FENCED_BLOCK.finditer(content):
        if fence.start() in skip or fence.group("info").strip() not in _CALL_FENCE_LANGUAGES:
            continue
        if fence.end() == len(content) and not content.rstrip().endswith(fence.group("fence")):
            continue  # an unterminated fence is still being written
        calls = _calls_from_json_text(fence.group("body"), known_tools, fence.group(0))
        if calls:
            yield _Match(fence.start(), fence.end(), calls)


def _without_spans(content: str, spans: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        pieces.append(content[position:start])
        position = max(position, end)
    pieces.append(content[position:])
    return "".join(pieces)


def extract_text_tool_calls(
    content: str, known_tools: Collection[str]
) -> tuple[str, list[TextToolCall]]:
    """Return (content with recognised call blocks removed, the calls in order).

    ``known_tools`` holds the tool names; when it is a mapping from name to the tool's
    parameters schema (or full OpenAI tool definition), XML parameter values are typed by it.
    """
    if len(content) > MAX_CONTENT_CHARS:
        return content, []
    thinking = _think_spans(content)
    quoted = _fenced_spans(content)
    matches = _tag_matches(content, known_tools, _SpanSet(thinking + quoted))
    claimed = [(match.start, match.end) for match in matches]
    matches.extend(_fenced_matches(content, known_tools, _SpanSet(thinking + claimed)))
    if not matches:
        outside_thinking = _without_spans(content, thinking)
        bare = outside_thinking.strip()
        if bare.startswith(("{", "[")):
            calls = _calls_from_json_text(bare, known_tools, bare)
            if calls:
                visible = "".join(content[start:end] for start, end in thinking).strip()
                return visible, calls
    if not matches:
        return content, []
    matches.sort(key=lambda match: match.start)
    visible = _without_spans(content, [(match.start, match.end) for match in matches])
    calls = [call for match in matches for call in match.calls]
    return visible.strip(), calls
