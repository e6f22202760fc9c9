"""An MCP tool's input schema: as sent to the model, and as checked before a call.

The schema is the server's; what the model sees drops only `title` annotations and `$schema`
(every character is paid on every request), never a property that happens to be called
"title". Arguments are validated with jsonschema against the server's own schema (its
`$schema`, else JSON Schema 2020-12 as MCP specifies): an invalid call is a tool error and
never reaches the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keywords whose value maps names to subschemas: the names are data, not keywords.
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_DROP = frozenset({"title", "$schema"})
MAX_ERRORS = 6


class SchemaProblem(ValueError):
    """The server's schema itself is unusable (the tool is not offered)."""


def model_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the model is sent: an object schema, annotations stripped."""
    raw = dict(schema or {})
    if raw.get("type", "object") != "object":
        raise SchemaProblem(f"input schema must describe an object, not {raw.get('type')!r}")
    out: dict[str, Any] = _strip(raw)
    out["type"] = "object"
    out.setdefault("properties", {})
    return out


def _strip(node: Any, names: bool = False) -> Any:
    if isinstance(node, dict):
        if names:  # a map of names to subschemas: keep every name
            return {key: _strip(value) for key, value in node.items()}
        return {
            key: _strip(value, names=key in _NAME_MAPS)
            for key, value in node.items()
            if key not in _DROP
        }
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


class ArgumentValidator:
    """Built once per tool; the jsonschema import and schema check happen on first use."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._validator: Any = None

    def check_schema(self) -> None:
        self._get()

    def errors(self, arguments: Mapping[str, Any]) -> list[str]:
        """Readable problems with `arguments`; empty when they are valid."""
        validator = self._get()
        problems = []
        for error in sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))[
            :MAX_ERRORS
        ]:
            where = ".".join(str(part) for part in error.path) or "arguments"
            problems.append(f"{where}: {error.message[:300]}")
        return problems

    def _get(self) -> Any:
        if self._validator is None:
            from jsonschema import exceptions, validators  # type: ignore[import-untyped]

            cls = validators.validator_for(self.schema, default=validators.Draft202012Validator)
            try:
                cls.check_schema(self.schema)
            except exceptions.SchemaError as exc:
                raise SchemaProblem(f"invalid input schema: {exc.message[:200]}") from None
            self._validator = cls(self.schema)
        return self._validator
