"""Conversation messages, tool calls and usage, and their mapping to the OpenAI wire format.

History is kept (and stored in session files) as OpenAI-shaped dicts, typed here as
`Message`; our own flags ride along (`incomplete`) and are dropped by `wire_message` before a
message goes to a backend. A `ToolCall` is what a model asked for: its raw arguments exactly
as produced and, parsed once when the reply is read, their `ParsedArguments`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, Required, TypedDict

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal["done", "maxTurns", "cancelled", "error", "local", "plan"]


class WireFunction(TypedDict):
    name: str
    arguments: str  # canonical JSON text; "{}" when the model's arguments were invalid


class WireToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: WireFunction


class Message(TypedDict, total=False):
    role: Required[Role]
    content: Required[str | list[Any] | None]
    tool_calls: NotRequired[list[WireToolCall]]
    tool_call_id: NotRequired[str]
    name: NotRequired[str]
    incomplete: NotRequired[bool]  # ours: a reply cut off by a backend failure


_WIRE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name"})


def wire_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys an OpenAI-compatible server understands (we keep flags of our own)."""
    out = {k: v for k, v in message.items() if k in _WIRE_KEYS}
    if out.get("role") == "assistant" and out.get("content") is None:
        # llama.cpp's server rejects null content next to tool_calls.
        out["content"] = ""
    return out


@dataclass(frozen=True)
class ParsedArguments:
    """Outcome of parsing one tool call's arguments (llm.arguments does the parsing)."""

    value: dict[str, Any] | None  # None when invalid
    error: str | None  # short, model-facing explanation
    repair: str | None  # the single documented repair that was applied, if any

    @property
    def ok(self) -> bool:
        return self.value is not None

    def history_json(self) -> str:
        """The arguments to store and replay: canonical JSON of a valid value, else "{}".
        Invalid raw text in history makes vLLM reject every later request (BF-07)."""
        if self.value is None:
            return "{}"
        try:
            return json.dumps(self.value, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return "{}"


UNPARSED = ParsedArguments(None, "arguments were not parsed", None)


@dataclass
class ToolCall:
    """A tool call as the backend produced it, with its arguments parsed once."""

    id: str
    name: str
    arguments: str | Mapping[str, Any]  # raw, exactly as produced; never replayed
    from_text: bool = False  # recovered from the reply's text, not a native tool call
    parsed: ParsedArguments = UNPARSED

    def to_wire(self) -> WireToolCall:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.parsed.history_json()},
        }

    def display_arguments(self) -> Any:
        """For the editor's event stream: the parsed value, or a marker when invalid."""
        return self.parsed.value if self.parsed.value is not None else {"invalid": True}


def assistant_message(text: str, calls: list[ToolCall]) -> Message:
    # content "" rather than None: llama.cpp's server rejects null content with tool_calls.
    message: Message = {"role": "assistant", "content": text or ""}
    if calls:
        message["tool_calls"] = [call.to_wire() for call in calls]
    return message


def tool_message(call_id: str, content: str) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int | None = None

    def add(self, other: Usage | None) -> None:
        if other is None:
            return
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        if other.cached_tokens is not None:
            self.cached_tokens = (self.cached_tokens or 0) + other.cached_tokens

    def to_wire(self) -> dict[str, int]:
        out = {"promptTokens": self.prompt_tokens, "completionTokens": self.completion_tokens}
        if self.cached_tokens is not None:
            out["cachedTokens"] = self.cached_tokens
        return out
