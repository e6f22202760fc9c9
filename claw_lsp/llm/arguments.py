"""Strict parsing of tool-call arguments from OpenAI-compatible backends.

Local backends (vLLM, Ollama, llama.cpp) hand us arguments as a JSON string, as an already
decoded object, or as something broken. We accept only a JSON object, apply at most one of a
small set of documented, unambiguous repairs, and otherwise return a short model-facing error.
Type coercion is deliberately absent: schema validation happens elsewhere and must see the
model's real types (SECURITY.md BF-08, BF-10).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from claw_lsp.foundation.messages import ParsedArguments

MAX_ARGUMENTS_CHARS = 1_000_000

REPAIR_APPENDED_BRACE = "appended missing '}'"
REPAIR_DROPPED_TRAILING_TAGS = "dropped trailing tag junk after the object"
REPAIR_PYTHON_LITERAL = "read python-literal (single-quoted) object"
REPAIR_HTML_ENTITIES = "decoded HTML entities"
REPAIR_CONTROL_CHARACTERS = "accepted raw control characters inside strings"

# Leftovers that chat templates and tool parsers leak after a complete object, e.g.
# `{"path": "a"}</tool_call>` or `{...}<|im_end|>`. Anything else after the object is ambiguous.
_TRAILING_TAG_JUNK = re.compile(r"(?:\s*(?:</?[A-Za-z_][\w:.-]*>|<\|[\w.-]+\|>))*\s*")

# Jinja's `escape` (markupsafe) produces exactly these; llama.cpp templates leak them.
_HTML_ENTITIES = {
    "&#34;": '"',
    "&quot;": '"',
    "&#39;": "'",
    "&#x27;": "'",
    "&lt;": "<",
    "&gt;": ">",
    "&amp;": "&",
}
_HTML_ENTITY_PATTERN = re.compile("|".join(re.escape(entity) for entity in _HTML_ENTITIES))
_QUOTE_ENTITIES = ("&#34;", "&quot;")

# A final value that is certainly complete: a closed string, array or object, or a keyword.
# A trailing number could itself be truncated ("10" of "100"), so it never qualifies.
_COMPLETE_VALUE_END = re.compile(r'(?:["\]}]|\btrue|\bfalse|\bnull)\s*$')


class _ArgumentsError(ValueError):
    """A model-facing reason why the arguments were rejected."""


def _invalid(reason: str) -> ParsedArguments:
    return ParsedArguments(value=None, error=reason, repair=None)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last duplicate; a model that wrote
    # {"path": "a", "path": "/etc/passwd"} is ambiguous, so refuse instead of guessing.
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            raise _ArgumentsError(f"duplicate key {key!r} in arguments")
        result[key] = item
    return result


def _reject_non_finite(constant: str) -> Any:
    raise _ArgumentsError(f"invalid arguments JSON: {constant} is not allowed")


def _decoder(*, strict: bool) -> json.JSONDecoder:
    return json.JSONDecoder(
        object_pairs_hook=_reject_duplicate_keys,
        parse_constant=_reject_non_finite,
        strict=strict,
    )


_STRICT_DECODER = _decoder(strict=True)
_LENIENT_DECODER = _decoder(strict=False)


def _describe_json_error(error: json.JSONDecodeError) -> str:
    reason = error.msg.removesuffix(" at")  # "Unterminated string starting at"
    return f"invalid arguments JSON: {reason} at char {error.pos}"


def _require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _ArgumentsError("arguments must be a JSON object")
    return value


def _loads_object(text: str, *, strict: bool = True) -> dict[str, Any]:
    """Parse exactly one JSON value from ``text``; raise JSONDecodeError or _ArgumentsError."""
    decoder = _STRICT_DECODER if strict else _LENIENT_DECODER
    return _require_object(decoder.decode(text))


def _try_loads_object(text: str) -> dict[str, Any] | None:
    try:
        return _loads_object(text)
    except (json.JSONDecodeError, _ArgumentsError, RecursionError):
        return None


def _is_json_type(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json_type(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json_type(item) for key, item in value.items())
    return False


def _repair_trailing_junk(text: str, error: json.JSONDecodeError) -> dict[str, Any] | None:
    if not error.msg.startswith("Extra data"):
        return None
    try:
        value, end = _STRICT_DECODER.raw_decode(text)
    except (json.JSONDecodeError, _ArgumentsError, RecursionError):
        return None
    if not isinstance(value, dict) or _TRAILING_TAG_JUNK.fullmatch(text, end) is None:
        return None
    return value


def _repair_missing_brace(text: str, error: json.JSONDecodeError) -> dict[str, Any] | None:
    if error.pos < len(text.rstrip()) or _COMPLETE_VALUE_END.search(text) is None:
        return None
    return _try_loads_object(text + "}")


def _repair_python_literal(text: str) -> dict[str, Any] | None:
    if "'" not in text:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, dict) and _is_json_type(value):
        return value
    return None


def _repair_html_entities(text: str) -> dict[str, Any] | None:
    if not any(entity in text for entity in _QUOTE_ENTITIES):
        return None
    decoded = _HTML_ENTITY_PATTERN.sub(lambda match: _HTML_ENTITIES[match.group(0)], text)
    return _try_loads_object(decoded)


def _repair_control_characters(text: str) -> dict[str, Any] | None:
    try:
        return _loads_object(text, strict=False)
    except (json.JSONDecodeError, _ArgumentsError, RecursionError):
        return None


def _parse_text(text: str) -> ParsedArguments:
    try:
        return ParsedArguments(value=_loads_object(text), error=None, repair=None)
    except _ArgumentsError as rejected:
        return _invalid(str(rejected))
    except RecursionError:
        return _invalid("arguments are nested too deeply")
    except json.JSONDecodeError as decode_error:
        error = decode_error

    # Each repair is tried on the original text alone, so at most one is ever applied.
    repairs = (
        (REPAIR_DROPPED_TRAILING_TAGS, lambda: _repair_trailing_junk(text, error)),
        (REPAIR_APPENDED_BRACE, lambda: _repair_missing_brace(text, error)),
        (REPAIR_CONTROL_CHARACTERS, lambda: _repair_control_characters(text)),
        (REPAIR_HTML_ENTITIES, lambda: _repair_html_entities(text)),
        (REPAIR_PYTHON_LITERAL, lambda: _repair_python_literal(text)),
    )
    for description, attempt in repairs:
        repaired = attempt()
        if repaired is not None:
            return ParsedArguments(value=repaired, error=None, repair=description)
    if error.msg.startswith("Extra data"):
        return _invalid(
            f"invalid arguments JSON: unexpected data after the object at char {error.pos}"
        )
    return _invalid(_describe_json_error(error))


def _parse_mapping(raw: Mapping[str, Any]) -> ParsedArguments:
    try:
        value = dict(raw)
        if not _is_json_type(value):
            return _invalid("arguments contain values that are not JSON types")
        if len(json.dumps(value)) > MAX_ARGUMENTS_CHARS:
            return _invalid(f"arguments exceed {MAX_ARGUMENTS_CHARS} characters")
    except (RecursionError, TypeError, ValueError):
        return _invalid("arguments contain values that are not JSON types")
    return ParsedArguments(value=value, error=None, repair=None)


def parse_arguments(raw: str | Mapping[str, Any] | None) -> ParsedArguments:
    """Parse tool-call arguments given as a JSON string or an already decoded object.

    ``None``, ``""`` and ``"null"`` mean a call without arguments and give ``{}``.
    """
    if raw is None:
        return ParsedArguments(value={}, error=None, repair=None)
    if isinstance(raw, Mapping):
        return _parse_mapping(raw)
    if not isinstance(raw, str):
        return _invalid("arguments must be a JSON object")
    if len(raw) > MAX_ARGUMENTS_CHARS:
        return _invalid(f"arguments exceed {MAX_ARGUMENTS_CHARS} characters")
    text = raw.strip()
    if text in ("", "null"):
        return ParsedArguments(value={}, error=None, repair=None)
    return _parse_text(text)


def sanitize_for_history(raw: str | Mapping[str, Any] | None, parsed: ParsedArguments) -> str:
    """The arguments string to store in history and replay to the backend (see
    ParsedArguments.history_json); ``raw`` is never echoed back."""
    del raw  # never replayed, whatever it was
    return parsed.history_json()
