"""Typing of untyped argument text (XML forms) by the tool's schema, and Python literals.

XML carries no types: ``<parameter=limit>10</parameter>`` is text. A parameter the schema
declares as a string stays text exactly (a JSON file is valid file content); a declared boolean
accepts true/True/1 and false/False/0, numbers accept their decimal form, arrays and objects
accept JSON or a Python literal. Without a schema, JSON-looking text is decoded. Anything that
does not fit stays text, so the schema validator reports it to the model.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from typing import Any

_JSON_LOOKING_VALUE = re.compile(r"-?\d[\d.eE+-]*|true|false|null|[\[{].*", re.DOTALL)
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRUE = frozenset({"true", "True", "TRUE", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "0"})
_NULL = frozenset({"null", "None"})
_MAX_LITERAL_CHARS = 100_000


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


# Ambiguous JSON (duplicate keys, NaN) in a value is left as text, not guessed.
STRICT_VALUE_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant, strict=False
)


class _NotJson(ValueError):
    pass


def json_compatible(value: Any) -> Any:
    """``value`` (from ast.literal_eval) as JSON types; raise ValueError when it has none."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJson("a non-finite number")
        return value
    if isinstance(value, list | tuple):
        return [json_compatible(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise _NotJson("a non-string key")
        return {key: json_compatible(item) for key, item in value.items()}
    raise _NotJson(f"a {type(value).__name__} value")


def python_literal(text: str) -> Any:
    """A Python literal (single quotes, True/None) as JSON types; raise ValueError if not one."""
    if len(text) > _MAX_LITERAL_CHARS:
        raise _NotJson("too long")
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise _NotJson("not a literal") from error
    return json_compatible(value)


def _declared_types(schema: Mapping[str, Any] | None) -> set[str]:
    if schema is None:
        return set()
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set()
    if isinstance(declared, list):
        types |= {item for item in declared if isinstance(item, str)}
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, Mapping):
                types |= _declared_types(option)
    if not types and isinstance(schema.get("enum"), list):
        types |= {_json_type(item) for item in schema["enum"]}
    return types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else "object"


def _decode_structure(text: str, wanted: set[str]) -> Any:
    for decode in (STRICT_VALUE_DECODER.decode, python_literal):
        try:
            value = decode(text)
        except (ValueError, RecursionError):
            continue
        if ("array" in wanted and isinstance(value, list)) or (
            "object" in wanted and isinstance(value, dict)
        ):
            return value
    raise _NotJson("no structure")


def _typed(text: str, types: set[str]) -> Any:
    """``text`` as one of the declared ``types``; raise ValueError when it is none of them."""
    if "null" in types and text in _NULL:
        return None
    if "boolean" in types and (text in _TRUE or text in _FALSE):
        if text in ("1", "0") and types & {"integer", "number"}:
            return int(text)
        return text in _TRUE
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types and _NUMBER.fullmatch(text):
        number = int(text) if _INTEGER.fullmatch(text) else float(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise _NotJson("a non-finite number")
        return number
    if types & {"array", "object"}:
        return _decode_structure(text, types)
    raise _NotJson("not of the declared type")


def strip_one_newline(raw: str) -> str:
    """The value between tags: exactly one line break after the opening and before the closing
    tag belongs to the markup."""
    value = raw.removeprefix("\r\n") if raw.startswith("\r\n") else raw.removeprefix("\n")
    return value.removesuffix("\r\n") if value.endswith("\r\n") else value.removesuffix("\n")


def text_value(raw: str, schema: Mapping[str, Any] | None) -> Any:
    """An XML-carried value, typed by the parameter's schema (None: the schema is unknown)."""
    value = strip_one_newline(raw)
    types = _declared_types(schema)
    if "string" in types:
        return value
    stripped = value.strip()
    if types:
        try:
            return _typed(stripped, types)
        except (ValueError, RecursionError):
            return value
    if _JSON_LOOKING_VALUE.fullmatch(stripped) is None:
        return value
    try:
        return STRICT_VALUE_DECODER.decode(stripped)
    except (ValueError, RecursionError):
        return value
