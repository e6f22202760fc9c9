"""Shared types of the text tool-call parsers: recovered calls, matches, the offered tools."""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from claw_lsp.llm.arguments import ParsedArguments

# Bounds for hostile or runaway output (BF-16): past them the content stays plain text.
MAX_CONTENT_CHARS = 2_000_000
MAX_CANDIDATE_ATTEMPTS = 256

# A tool or parameter name as the families write it (dots: "functions.x" style namespaces).
NAME_PATTERN = r"[A-Za-z_][\w.-]*"


@dataclass(frozen=True)
class TextToolCall:
    """One tool call recovered from assistant text."""

    name: str
    arguments: ParsedArguments
    raw: str  # the matched source text
    family: str = "json"  # the family whose parser recovered it


@dataclass(frozen=True)
class Match:
    """A span of the content that is one or more calls (removed from the visible text)."""

    start: int
    end: int
    calls: tuple[TextToolCall, ...]


def invalid_markup(reason: str) -> ParsedArguments:
    return ParsedArguments(value=None, error=f"invalid tool call markup: {reason}", repair=None)


def invalid_arguments(reason: str) -> ParsedArguments:
    return ParsedArguments(value=None, error=reason, repair=None)


def valid(value: dict[str, Any]) -> ParsedArguments:
    return ParsedArguments(value=value, error=None, repair=None)


class ToolCatalog:
    """The tools offered to the model: their names and, when known, parameter schemas.

    ``known`` is a collection of names, or a mapping from name to the tool's parameters schema
    or full OpenAI tool definition (then text values are typed by the schema).
    """

    def __init__(self, known: Collection[str]) -> None:
        self._names = frozenset(name for name in known if isinstance(name, str))
        self._schemas: dict[str, Mapping[str, Any]] = {}
        if isinstance(known, Mapping):
            for name, schema in known.items():
                parameters = _parameters_of(schema)
                if parameters is not None:
                    self._schemas[name] = parameters

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._names

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def parameter_schema(self, tool: str, parameter: str) -> Mapping[str, Any] | None:
        properties = self._schemas.get(tool, {}).get("properties")
        if not isinstance(properties, Mapping):
            return None
        schema = properties.get(parameter)
        return schema if isinstance(schema, Mapping) else None

    def declares(self, tool: str, parameter: str) -> bool | None:
        """Whether ``tool`` declares ``parameter``; None when its schema is unknown."""
        properties = self._schemas.get(tool, {}).get("properties")
        if not isinstance(properties, Mapping):
            return None
        return parameter in properties


def _parameters_of(schema: Any) -> Mapping[str, Any] | None:
    if not isinstance(schema, Mapping):
        return None
    function = schema.get("function")
    if isinstance(function, Mapping):  # a full OpenAI tool definition
        schema = function.get("parameters")
    return schema if isinstance(schema, Mapping) else None


class SpanSet:
    """Half-open spans with a logarithmic membership test (content may hold many of them)."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.spans = merged
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, int):
            return False
        index = bisect.bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self._starts, end - 1) - 1
        return index >= 0 and self._ends[index] > start


def without_spans(content: str, spans: Iterable[tuple[int, int]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        pieces.append(content[position:start])
        position = max(position, end)
    pieces.append(content[position:])
    return "".join(pieces)


def skip_spaces(content: str, position: int) -> int:
    while position < len(content) and content[position].isspace():
        position += 1
    return position
