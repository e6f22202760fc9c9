"""The ChatModel seam: what the agent loop needs from any backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

BackendErrorKind = Literal[
    "auth",
    "rate_limited",
    "context_length",
    "unreachable",
    "timeout",
    "dropped",
    "invalid_response",
    "bad_request",
    "not_found",
    "server",
    "not_configured",
]


class BackendError(Exception):
    """The model backend failed; the message is safe to show to the user (no secrets)."""

    def __init__(self, message: str, kind: BackendErrorKind, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.partial_text = partial_text


@dataclass
class RawToolCall:
    """A tool call exactly as the backend produced it (arguments not yet parsed)."""

    id: str
    name: str
    arguments: str | Mapping[str, Any]
    from_text: bool = False


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


@dataclass
class ModelReply:
    text: str = ""
    tool_calls: list[RawToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class ChatRequest:
    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]]


class ChatModel(Protocol):
    """A streaming chat backend. `on_text` receives assistant text deltas as they arrive;
    `on_notice` receives user-facing notices such as "rate limited, retrying in 2 s"."""

    model_name: str

    async def complete(
        self,
        request: ChatRequest,
        *,
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None] = lambda _: None,
    ) -> ModelReply: ...
