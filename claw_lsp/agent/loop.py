"""The turn loop: ask the model, run the tool calls it makes, feed the results back, repeat."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from claw_lsp.agent.history import wire_message
from claw_lsp.agent.ports import EventSink
from claw_lsp.llm.arguments import parse_arguments, sanitize_for_history
from claw_lsp.llm.base import BackendError, ChatModel, ChatRequest, ModelReply, RawToolCall, Usage
from claw_lsp.llm.text_mode import text_mode_messages, text_mode_system_prompt
from claw_lsp.llm.toolcall_text import extract_text_tool_calls
from claw_lsp.llm.toolcalls.detect import (
    HISTORY_KEY,
    UNKNOWN,
    TextDialect,
    family_from_history,
    learnable,
)
from claw_lsp.llm.toolcalls.stream import VisibleTextFilter, has_open_call
from claw_lsp.tools.orchestrator import Orchestrator

TRUNCATED_CALL_NOTE = (
    "Your previous reply was cut off by the output token limit while writing a tool call, so "
    "nothing was executed. Retry with smaller output: split large writes into several edit_file "
    "calls."
)


@dataclass
class TurnOutcome:
    stop_reason: str  # done | maxTurns | error  (cancellation propagates as CancelledError)
    text: str = ""
    tool_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


@dataclass
class TurnInputs:
    model: ChatModel
    system_prompt: str
    tools: list[dict[str, Any]]
    tool_names: Collection[str]
    messages: list[dict[str, Any]]  # the conversation so far, new user message included
    orchestrator: Orchestrator
    events: EventSink
    record: Callable[[dict[str, Any]], None]  # persist one message of this turn
    max_steps: int = 25
    deadline_s: float = 1800.0
    text_tool_calls: bool = True
    compact: Callable[[list[dict[str, Any]]], bool] | None = None  # shrink on context overflow


async def run_turn(inputs: TurnInputs) -> TurnOutcome:
    outcome = TurnOutcome("done")
    started = time.monotonic()
    compacted = False
    wire = _WireForm(inputs)
    for _ in range(inputs.max_steps):
        if time.monotonic() - started > inputs.deadline_s:
            return _stop(outcome, "maxTurns", "the turn reached its time limit")
        request = wire.request(inputs.messages)
        visible = wire.visible_filter()
        try:
            reply = await inputs.model.complete(
                request,
                on_text=_text_sink(inputs, visible),
                on_notice=lambda note: inputs.events.emit("notice", {"message": note}),
            )
        except BackendError as exc:
            if exc.kind == "context_length" and not compacted and inputs.compact:
                compacted = True
                if inputs.compact(inputs.messages):
                    inputs.events.emit("notice", {"message": "context full: compacted, retrying"})
                    continue
            if exc.partial_text:
                _append(
                    inputs, {"role": "assistant", "content": exc.partial_text, "incomplete": True}
                )
                outcome.text += exc.partial_text
            return _stop(outcome, "error", str(exc))
        outcome.usage.add(reply.usage)
        calls = _tool_calls(reply, inputs, wire)
        _emit_text(inputs, visible.finish(calls_used=all(c.from_text for c in calls)))
        outcome.text = _visible_text(reply, calls, wire)
        if reply.finish_reason == "length" and (calls or wire.has_open_text_call(reply.text)):
            # BF-14: a call cut off by the token limit (or one that parsed only after the
            # missing-brace repair) is never run; the model is asked to retry smaller.
            _append(inputs, {"role": "assistant", "content": reply.text})
            _append(inputs, {"role": "user", "content": TRUNCATED_CALL_NOTE})
            continue
        _append(inputs, _assistant_message(outcome.text, calls, wire.text_family))
        if not calls:
            return outcome
        for position, call in enumerate(calls):
            inputs.events.emit(
                "toolCall", {"id": call.id, "name": call.name, "arguments": _display_args(call)}
            )
            result = await inputs.orchestrator.execute(call)
            outcome.tool_calls += 1
            inputs.events.emit(
                "toolResult", {"id": call.id, "ok": result.ok, "summary": result.summary}
            )
            _append(inputs, {"role": "tool", "tool_call_id": call.id, "content": result.content})
            if result.stop_turn:
                # Every call needs a result, or the next request is rejected by the backend.
                for skipped in calls[position + 1 :]:
                    _append(
                        inputs,
                        {
                            "role": "tool",
                            "tool_call_id": skipped.id,
                            "content": "Error: not run (the turn was stopped)",
                        },
                    )
                return _stop(outcome, "maxTurns", result.summary)
    return _stop(outcome, "maxTurns", f"stopped after {inputs.max_steps} model calls (maxTurns)")


def _stop(outcome: TurnOutcome, reason: str, message: str) -> TurnOutcome:
    outcome.stop_reason = reason
    outcome.error = message
    return outcome


def _text_sink(inputs: TurnInputs, visible: _TextFilter) -> Callable[[str], None]:
    return lambda delta: _emit_text(inputs, visible.feed(delta))


def _emit_text(inputs: TurnInputs, delta: str) -> None:
    if delta:
        inputs.events.emit("text", {"delta": delta})


def _append(inputs: TurnInputs, message: dict[str, Any]) -> None:
    inputs.messages.append(message)
    inputs.record(message)


class _WireForm:
    """How this model is talked to: native tools, or tools described in the prompt (text)."""

    def __init__(self, inputs: TurnInputs) -> None:
        self.text_mode = getattr(inputs.model, "tool_mode", "native") == "text"
        # name -> OpenAI tool definition: lets the text parser type XML values by schema.
        self.schemas: dict[str, Any] = {
            tool["function"]["name"]: tool
            for tool in inputs.tools
            if isinstance(tool.get("function"), dict)
            and tool["function"].get("name") in inputs.tool_names
        }
        for name in inputs.tool_names:
            self.schemas.setdefault(name, None)
        self.parse_text = self.text_mode or inputs.text_tool_calls
        # Issue 15: the family the model writes calls in (from the model, then this session).
        self.dialect = TextDialect(
            getattr(inputs.model, "tool_family", None) or UNKNOWN,
            family_from_history(inputs.messages),
        )
        self.text_family: str | None = None  # of the calls recovered from the last reply
        self.system_prompt = (
            text_mode_system_prompt(inputs.system_prompt, inputs.tools, self.dialect.prompt_family)
            if self.text_mode
            else inputs.system_prompt
        )
        self.tools = [] if self.text_mode else inputs.tools

    def request(self, messages: list[dict[str, Any]]) -> ChatRequest:
        history = [wire_message(m) for m in messages]
        if self.text_mode:
            history = text_mode_messages(history, self.dialect.prompt_family)
        system = {"role": "system", "content": self.system_prompt}
        return ChatRequest([system, *history], self.tools)

    def visible_filter(self) -> _TextFilter:
        """What the user sees while the reply streams: never the markup of a text call."""
        if not self.parse_text:
            return _Passthrough()
        return VisibleTextFilter(self.schemas, self.dialect.parse_family)

    def has_open_text_call(self, text: str) -> bool:
        return self.parse_text and has_open_call(text, self.schemas, self.dialect.parse_family)


class _Passthrough:
    def feed(self, delta: str) -> str:
        return delta

    def finish(self, *, calls_used: bool = True) -> str:
        return ""


_TextFilter = VisibleTextFilter | _Passthrough


def _tool_calls(reply: ModelReply, inputs: TurnInputs, wire: _WireForm) -> list[RawToolCall]:
    calls = list(reply.tool_calls)
    wire.text_family = None
    if not calls and wire.parse_text and reply.text:
        _, found = extract_text_tool_calls(reply.text, wire.schemas, wire.dialect.parse_family)
        wire.text_family = found[0].family if found else None
        if wire.dialect.session_family is None and learnable(wire.text_family):
            wire.dialect = replace(wire.dialect, session_family=wire.text_family)
        calls = [
            RawToolCall(id="", name=c.name, arguments=c.arguments.value, from_text=True)
            if c.arguments.value is not None
            else RawToolCall(id="", name=c.name, arguments=c.raw, from_text=True)
            for c in found
        ]
    # Ids must be present and unique across the conversation: some servers send none, the
    # same one twice, or restart at call_0 on every reply.
    used = {
        str(call.get("id"))
        for message in inputs.messages
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    }
    for n, call in enumerate(calls):
        if not call.id or call.id in used:
            call.id = f"call_{len(inputs.messages)}_{n}"
            while call.id in used:
                call.id += "_"
        used.add(call.id)
    return calls


def _visible_text(reply: ModelReply, calls: list[RawToolCall], wire: _WireForm) -> str:
    if calls and all(c.from_text for c in calls):
        visible, _ = extract_text_tool_calls(reply.text, wire.schemas, wire.dialect.parse_family)
        return visible.strip()
    return reply.text


def _assistant_message(
    text: str, calls: list[RawToolCall], text_family: str | None = None
) -> dict[str, Any]:
    # content "" rather than None: llama.cpp's server rejects null content with tool_calls.
    message: dict[str, Any] = {"role": "assistant", "content": text or ""}
    if calls and learnable(text_family):
        message[HISTORY_KEY] = text_family  # the session's first one fixes its family
    if calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    # Never replay invalid arguments: vLLM re-parses history and 400s.
                    "arguments": sanitize_for_history(c.arguments, parse_arguments(c.arguments)),
                },
            }
            for c in calls
        ]
    return message


def _display_args(call: RawToolCall) -> Any:
    parsed = parse_arguments(call.arguments)
    return parsed.value if parsed.value is not None else {"invalid": True}
