"""Call objects written as JSON: ``{"name": ..., "arguments": {...}}`` and its family variants.

Each family has a shape: which key names the tool, which keys may hold the arguments, and which
bookkeeping keys (Mistral's "id") may come along. Any other key makes the object not a call:
``{"name": "my-app", "version": "1.0.0"}`` is a package.json, not a call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from claw_lsp.llm.arguments import ParsedArguments, parse_arguments
from claw_lsp.llm.toolcalls.core import TextToolCall, ToolCatalog, invalid_arguments
from claw_lsp.llm.toolcalls.values import STRICT_VALUE_DECODER


@dataclass(frozen=True)
class CallShape:
    name_key: str = "name"
    argument_keys: tuple[str, ...] = ("arguments", "parameters")
    extra_keys: frozenset[str] = frozenset()
    arguments_required: bool = False


HERMES_SHAPE = CallShape()
MISTRAL_SHAPE = CallShape(argument_keys=("arguments",), extra_keys=frozenset({"id"}))
# vLLM's llama3_json: an object without "parameters"/"arguments" is not a call.
LLAMA_SHAPE = CallShape(argument_keys=("parameters", "arguments"), arguments_required=True)
COMMAND_R_SHAPE = CallShape(
    name_key="tool_name", argument_keys=("parameters",), extra_keys=frozenset({"tool_call_id"})
)

_RAW_DECODER = json.JSONDecoder(strict=False)


def arguments_from(raw: Any) -> ParsedArguments:
    if raw is None or isinstance(raw, str | dict):
        return parse_arguments(raw)
    return invalid_arguments("arguments must be a JSON object")


def call_from_object(
    obj: Any, shape: CallShape, tools: ToolCatalog, raw: str, family: str
) -> TextToolCall | None:
    """A call when ``obj`` has exactly the keys of ``shape`` and names an offered tool."""
    if not isinstance(obj, dict):
        return None
    name = obj.get(shape.name_key)
    if not isinstance(name, str) or name not in tools:
        return None
    given = [key for key in shape.argument_keys if key in obj]
    extra = set(obj) - {shape.name_key, *given} - shape.extra_keys
    if extra or len(given) > 1 or (shape.arguments_required and not given):
        return None
    return TextToolCall(name, arguments_from(obj[given[0]] if given else None), raw, family)


def calls_from_value(
    value: Any, shape: CallShape, tools: ToolCatalog, raw: str, family: str
) -> list[TextToolCall]:
    """Calls when ``value`` is one call object or a non-empty list of them, else []."""
    items = value if isinstance(value, list) else [value]
    calls = [call_from_object(item, shape, tools, raw, family) for item in items]
    if not calls or any(call is None for call in calls):
        return []  # one entry that is not a call makes the whole list something else
    return [call for call in calls if call is not None]


def decode_strict(text: str) -> Any:
    """Exactly one JSON value (duplicate keys and NaN refused); raise ValueError otherwise."""
    try:
        return STRICT_VALUE_DECODER.decode(text.strip())
    except RecursionError as error:
        raise ValueError("nested too deeply") from error


def decode_at(content: str, position: int) -> tuple[Any, int] | None:
    """The JSON value starting at ``position`` and where it ends; None if there is none."""
    try:
        return STRICT_VALUE_DECODER.raw_decode(content, position)
    except (ValueError, RecursionError):
        return None


def value_end(content: str, position: int) -> int | None:
    """Where a JSON value starting at ``position`` ends (lenient), None if it does not."""
    try:
        return _RAW_DECODER.raw_decode(content, position)[1]
    except (ValueError, RecursionError):
        return None


def calls_from_json_text(
    text: str, shape: CallShape, tools: ToolCatalog, raw: str, family: str
) -> list[TextToolCall]:
    """Calls when ``text`` is exactly one call object or a list of them, else []."""
    try:
        value = decode_strict(text)
    except ValueError:
        return []
    return calls_from_value(value, shape, tools, raw, family)


def with_raw(calls: list[TextToolCall], raw: str) -> tuple[TextToolCall, ...]:
    return tuple(TextToolCall(call.name, call.arguments, raw, call.family) for call in calls)
