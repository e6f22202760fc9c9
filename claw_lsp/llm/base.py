"""The seams between the agent and a model backend.

`ChatBackend` is one OpenAI-compatible endpoint: wire messages and tool definitions in, a
reply out (llm/openai_compat.py). `ChatModel` is the model as the agent loop sees it: it
builds each request in the model's wire form (native tools, or tools described in the
prompt), and hands back the assistant's visible text and its tool calls, recovered from text
where needed and with arguments parsed once (llm/wire.py). The loop never looks behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from claw_lsp.foundation.messages import ToolCall, Usage

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
ToolMode = Literal["native", "text"]
TextCallback = Callable[[str], None]


def _ignore(_: str) -> None:
    pass


class BackendError(Exception):
    """The model backend failed; the message is safe to show to the user (no secrets)."""

    def __init__(self, message: str, kind: BackendErrorKind, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.partial_text = partial_text


@dataclass
class ModelReply:
    """One backend reply as it came: native tool calls (arguments unparsed) and all text."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class ChatRequest:
    """Exactly what goes on the wire: the system message first, then the history."""

    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]]
    # Not sent: the offered tools' definitions by name, so that calls written as text can be
    # recovered and typed even when the tools travel inside the prompt (text mode).
    offered: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)


class ChatBackend(Protocol):
    """A streaming chat endpoint. `on_text` receives assistant text deltas as they arrive;
    `on_notice` receives user-facing notices such as "rate limited, retrying in 2 s"."""

    model_name: str
    base_url: str

    async def complete(
        self, request: ChatRequest, *, on_text: TextCallback, on_notice: TextCallback = _ignore
    ) -> ModelReply: ...

    async def close(self) -> None: ...


@dataclass
class AssistantReply:
    """A reply as the loop needs it."""

    text: str  # what the user sees: recovered call markup removed
    calls: list[ToolCall]  # native or recovered from text, arguments parsed
    raw_text: str  # the content as the model wrote it
    usage: Usage | None = None
    # The reply hit the output token limit in the middle of a tool call: never run it.
    cut_off_call: bool = False


class ChatModel(Protocol):
    model_name: str
    tool_mode: ToolMode
    context_window: int | None  # known to the backend itself (the embedded server's n_ctx)

    def build_request(
        self,
        system_prompt: str,
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
    ) -> ChatRequest: ...

    async def reply(
        self,
        request: ChatRequest,
        *,
        on_text: TextCallback,
        on_notice: TextCallback = _ignore,
    ) -> AssistantReply: ...
