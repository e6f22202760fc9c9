"""The wire form of one model: how its requests are built and how its replies are read.

Native mode sends the tools as OpenAI tool definitions. Text mode (backends without tool
calling, llm/text_mode.py) describes them in the system prompt and rewrites the history into
plain messages. Either way a reply can carry calls written as text (local servers leak them
when their parser flag is off or the template has no tool section): they are recovered here,
only for offered tools, and every call's arguments are parsed exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from claw_lsp.llm.text_mode import text_mode_messages, text_mode_system_prompt
from claw_lsp.llm.toolcall_text import extract_text_tool_calls

# Markup that opens a call written as text; an unclosed one at the token limit is a cut-off call.
_CALL_MARKUP = (("<tool_call>", "</tool_call>"), ("<function=", "</function>"))


class WireModel:
    """The ChatModel the agent loop talks to, over one ChatBackend."""

    def __init__(
        self,
        backend: ChatBackend,
        *,
        tool_mode: ToolMode = "native",
        text_calls: bool = True,
        context_window: int | None = None,
    ) -> None:
        self.backend = backend
        self.model_name = backend.model_name
        self.context_window = context_window
        self.tool_mode: ToolMode = tool_mode
        # Recover calls from text: always in text mode, else when textToolCalls is on.
        self.parse_text = tool_mode == "text" or text_calls
        self._system_prompts: dict[tuple[str, tuple[str, ...]], str] = {}

    def build_request(
        self,
        system_prompt: str,
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
    ) -> ChatRequest:
        offered = _by_name(tools)
        history = [wire_message(m) for m in messages]
        if self.tool_mode == "text" and tools:
            system = {"role": "system", "content": self._text_system_prompt(system_prompt, tools)}
            return ChatRequest([system, *text_mode_messages(history)], [], offered)
        return ChatRequest([{"role": "system", "content": system_prompt}, *history], tools, offered)

    def _text_system_prompt(self, system_prompt: str, tools: Sequence[Mapping[str, Any]]) -> str:
        # Schemas are built once per tool source, so the names identify the rendering; it is
        # byte-stable anyway, caching only saves the work on every step.
        key = (system_prompt, tuple(_name(t) for t in tools))
        cached = self._system_prompts.get(key)
        if cached is None:
            cached = self._system_prompts[key] = text_mode_system_prompt(system_prompt, tools)
        return cached

    async def reply(
        self,
        request: ChatRequest,
        *,
        on_text: TextCallback,
        on_notice: TextCallback = _ignore,
    ) -> AssistantReply:
        reply = await self.backend.complete(request, on_text=on_text, on_notice=on_notice)
        return self.read(reply, request.offered)

    def read(
        self, reply: ModelReply, offered: Mapping[str, Mapping[str, Any] | None]
    ) -> AssistantReply:
        calls = list(reply.tool_calls)
        text = reply.text
        if not calls and self.parse_text and reply.text:
            visible, found = extract_text_tool_calls(reply.text, offered)
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
        for call in calls:
            if not call.from_text:
                call.parsed = parse_arguments(call.arguments)
        cut_off = reply.finish_reason == "length" and (
            bool(calls) or self._has_open_text_call(reply.text)
        )
        return AssistantReply(text, calls, reply.text, reply.usage, cut_off_call=cut_off)

    def _has_open_text_call(self, text: str) -> bool:
        if not self.parse_text:
            return False
        return any(text.rfind(o) > text.rfind(c) for o, c in _CALL_MARKUP)

    async def close(self) -> None:
        await self.backend.close()


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
