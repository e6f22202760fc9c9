"""The wire form of one model: how its requests are built and how its replies are read.

Native mode sends the tools as OpenAI tool definitions. Text mode (backends without tool
calling, llm/text_mode.py) describes them in the system prompt in the dialect of the model's
family and rewrites the history into plain messages. Either way a reply can carry calls written
as text (local servers leak them when their parser flag is off or the template has no tool
section): they are recovered here, only for offered tools, with the parsers of the model's
family when it is known for sure (llm/toolcalls), and every call's arguments are parsed once.
While a reply streams, the markup of a recovered call never reaches the visible text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from claw_lsp.foundation.messages import ToolCall, wire_message
from claw_lsp.llm.arguments import parse_arguments
from claw_lsp.llm.base import (
    AssistantReply,
    ChatBackend,
    ChatRequest,
    ModelReply,
    TextCallback,
    ToolMode,
    _ignore,
)
from claw_lsp.llm.text_mode import TextModeForms, text_mode_system_prompt
from claw_lsp.llm.toolcalls import (
    FamilyGuess,
    TextDialect,
    VisibleTextFilter,
    extract_text_tool_calls,
    has_open_call,
)
from claw_lsp.llm.toolcalls.detect import HISTORY_KEY, UNKNOWN, family_from_history, learnable

Offered = Mapping[str, Mapping[str, Any] | None]


class WireModel:
    """The ChatModel the agent loop talks to, over one ChatBackend."""

    def __init__(
        self,
        backend: ChatBackend,
        *,
        tool_mode: ToolMode = "native",
        text_calls: bool = True,
        context_window: int | None = None,
        tool_family: FamilyGuess = UNKNOWN,
    ) -> None:
        self.backend = backend
        self.model_name = backend.model_name
        self.context_window = context_window
        self.tool_mode: ToolMode = tool_mode
        # The family its calls are written in when they come back as text; like the mode it is
        # fixed per instance, so the text-mode system prompt stays byte-stable.
        self.tool_family = tool_family
        # Recover calls from text: always in text mode, else when textToolCalls is on.
        self.parse_text = tool_mode == "text" or text_calls
        self._system_prompts: dict[tuple[str, tuple[str, ...]], str] = {}
        self._wire = _WireForms()
        self._text = TextModeForms()

    def dialect(self, messages: Sequence[Mapping[str, Any]]) -> TextDialect:
        """The model's family, and the one this session's first text call showed."""
        return TextDialect(self.tool_family, family_from_history(messages))

    def build_request(
        self,
        system_prompt: str,
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
    ) -> ChatRequest:
        offered = _by_name(tools)
        history, family = self._wire.of(messages)
        dialect = TextDialect(self.tool_family, family)
        if self.tool_mode == "text" and tools:
            content = self._text_system_prompt(system_prompt, tools, dialect.prompt_family)
            history = self._text.of(history, dialect.prompt_family)
            return ChatRequest(
                [self._wire.system(content), *history],
                [],
                offered,
                dialect.parse_family,
            )
        system = self._wire.system(system_prompt)
        return ChatRequest([system, *history], tools, offered, dialect.parse_family)

    def _text_system_prompt(
        self, system_prompt: str, tools: Sequence[Mapping[str, Any]], family: str | None
    ) -> str:
        # Schemas are built once per tool source, so the names identify the rendering; it is
        # byte-stable anyway, caching only saves the work on every step.
        key = (system_prompt, (family or "", *(_name(t) for t in tools)))
        cached = self._system_prompts.get(key)
        if cached is None:
            cached = self._system_prompts[key] = text_mode_system_prompt(
                system_prompt, tools, family
            )
        return cached

    async def reply(
        self,
        request: ChatRequest,
        *,
        on_text: TextCallback,
        on_notice: TextCallback = _ignore,
    ) -> AssistantReply:
        visible = self._visible_text(request)
        reply = await self.backend.complete(
            request, on_text=lambda delta: _emit(on_text, visible.feed(delta)), on_notice=on_notice
        )
        read = self.read(reply, request.offered, request.parse_family)
        _emit(on_text, visible.finish(calls_used=all(c.from_text for c in read.calls)))
        return read

    def _visible_text(self, request: ChatRequest) -> VisibleTextFilter | _Passthrough:
        if not self.parse_text:
            return _Passthrough()
        return VisibleTextFilter(request.offered, request.parse_family)

    def read(
        self, reply: ModelReply, offered: Offered, parse_family: str | None = None
    ) -> AssistantReply:
        calls = list(reply.tool_calls)
        text = reply.text
        extras: dict[str, Any] = {}
        if not calls and self.parse_text and reply.text:
            visible, found = extract_text_tool_calls(reply.text, offered, parse_family)
            calls = [
                ToolCall(
                    id="",
                    name=c.name,
                    arguments=c.arguments.value if c.arguments.value is not None else c.raw,
                    from_text=True,
                    parsed=c.arguments,
                )
                for c in found
            ]
            if calls:
                text = visible.strip()
                if learnable(found[0].family):
                    # The session's first text call fixes its family (TextDialect).
                    extras[HISTORY_KEY] = found[0].family
        for call in calls:
            if not call.from_text:
                call.parsed = parse_arguments(call.arguments)
        cut_off = reply.finish_reason == "length" and (
            bool(calls) or (self.parse_text and has_open_call(reply.text, offered, parse_family))
        )
        return AssistantReply(text, calls, reply.text, reply.usage, cut_off, extras)

    async def close(self) -> None:
        await self.backend.close()


class _WireForms:
    """Each message's wire form built once (issue 22) and handed back as the same object while
    the message is unchanged, so that sizes measured by identity stay valid (RequestSizer).
    A message counts as changed when it is another object, or its content or key count is
    (compaction replaces contents in place); an entry holds its message, so ids stay unique."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Mapping[str, Any], Any, int, dict[str, Any], str | None]]
        self._entries = {}
        self._system: dict[str, Any] = {"role": "system", "content": ""}

    def of(self, messages: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
        """The wire forms, and the family of the first call recovered from text (TextDialect)."""
        entries = self._entries
        history: list[dict[str, Any]] = []
        family: str | None = None
        for message in messages:
            entry = entries.get(id(message))
            if (
                entry is None
                or entry[0] is not message
                or entry[1] is not message.get("content")
                or entry[2] != len(message)
            ):
                entry = entries[id(message)] = (
                    message,
                    message.get("content"),
                    len(message),
                    wire_message(message),
                    family_from_history((message,)),
                )
            history.append(entry[3])
            family = family or entry[4]
        if len(entries) > 2 * len(messages) + 64:  # compacted away, or another session's
            self._entries = {id(m): entries[id(m)] for m in messages}
        return history, family

    def system(self, prompt: str) -> dict[str, Any]:
        if self._system["content"] != prompt:
            self._system = {"role": "system", "content": prompt}
        return self._system


class _Passthrough:
    def feed(self, delta: str) -> str:
        return delta

    def finish(self, *, calls_used: bool = True) -> str:
        return ""


def _emit(on_text: Callable[[str], None], delta: str) -> None:
    if delta:
        on_text(delta)


def _name(tool: Mapping[str, Any]) -> str:
    function = tool.get("function")
    return str(function.get("name")) if isinstance(function, Mapping) else ""


def _by_name(tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any] | None]:
    """name -> OpenAI tool definition: lets the text parser type XML values by schema."""
    out: dict[str, Mapping[str, Any] | None] = {}
    for tool in tools:
        function = tool.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            out[function["name"]] = tool
    return out
