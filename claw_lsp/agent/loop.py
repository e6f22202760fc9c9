"""The turn loop: ask the model, run the tool calls it makes, feed the results back, repeat."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.agent.history import wire_message
from claw_lsp.agent.ports import EventSink
from claw_lsp.llm.arguments import parse_arguments, sanitize_for_history
from claw_lsp.llm.base import BackendError, ChatModel, ChatRequest, ModelReply, RawToolCall, Usage
from claw_lsp.llm.toolcall_text import extract_text_tool_calls
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
    for _ in range(inputs.max_steps):
        if time.monotonic() - started > inputs.deadline_s:
            return _stop(outcome, "maxTurns", "the turn reached its time limit")
        request = ChatRequest(
            [
                {"role": "system", "content": inputs.system_prompt},
                *(wire_message(m) for m in inputs.messages),
            ],
            inputs.tools,
        )
        try:
            reply = await inputs.model.complete(
                request,
                on_text=lambda delta: inputs.events.emit("text", {"delta": delta}),
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
        calls = _tool_calls(reply, inputs)
        outcome.text = _visible_text(reply, calls)
        if reply.finish_reason == "length" and calls:
            _append(inputs, {"role": "assistant", "content": reply.text})
            _append(inputs, {"role": "user", "content": TRUNCATED_CALL_NOTE})
            continue
        _append(inputs, _assistant_message(outcome.text, calls))
        if not calls:
            return outcome
        for call in calls:
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
                return _stop(outcome, "maxTurns", "the same tool call kept repeating")
    return _stop(outcome, "maxTurns", f"stopped after {inputs.max_steps} model calls (maxTurns)")


def _stop(outcome: TurnOutcome, reason: str, message: str) -> TurnOutcome:
    outcome.stop_reason = reason
    outcome.error = message
    return outcome


def _append(inputs: TurnInputs, message: dict[str, Any]) -> None:
    inputs.messages.append(message)
    inputs.record(message)


def _tool_calls(reply: ModelReply, inputs: TurnInputs) -> list[RawToolCall]:
    calls = list(reply.tool_calls)
    if not calls and inputs.text_tool_calls and reply.text:
        _, found = extract_text_tool_calls(reply.text, inputs.tool_names)
        calls = [
            RawToolCall(id="", name=c.name, arguments=c.arguments.value or {}, from_text=True)
            if c.arguments.value is not None
            else RawToolCall(id="", name=c.name, arguments=c.raw, from_text=True)
            for c in found
        ]
    # Ids must be unique and present: some servers send none, or the same one twice.
    used: set[str] = set()
    for n, call in enumerate(calls):
        if not call.id or call.id in used:
            call.id = f"call_{n}_{len(inputs.messages)}"
        used.add(call.id)
    return calls


def _visible_text(reply: ModelReply, calls: list[RawToolCall]) -> str:
    if calls and all(c.from_text for c in calls):
        visible, _ = extract_text_tool_calls(reply.text, {c.name for c in calls})
        return visible.strip()
    return reply.text


def _assistant_message(text: str, calls: list[RawToolCall]) -> dict[str, Any]:
    # content "" rather than None: llama.cpp's server rejects null content with tool_calls.
    message: dict[str, Any] = {"role": "assistant", "content": text or ""}
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
