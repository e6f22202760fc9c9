"""The turn loop: ask the model, run the tool calls it makes, feed the results back, repeat.

Everything model-specific (wire form, calls written as text, argument parsing) is behind the
ChatModel; everything about the context window is the ContextStep's; every tool call goes
through the Orchestrator. What is left here is the loop itself and its stop rules.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.context.engine import ContextStep
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.messages import (
    StopReason,
    ToolCall,
    Usage,
    assistant_message,
    tool_message,
)
from claw_lsp.llm.base import AssistantReply, BackendError, ChatModel
from claw_lsp.tools.orchestrator import Orchestrator

TRUNCATED_CALL_NOTE = (
    "Your previous reply was cut off by the output token limit while writing a tool call, so "
    "nothing was executed. Retry with smaller output: split large writes into several edit_file "
    "calls."
)


@dataclass
class TurnOutcome:
    stop_reason: StopReason  # cancellation propagates as CancelledError
    text: str = ""
    tool_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


@dataclass
class TurnInputs:
    model: ChatModel
    context: ContextStep  # builds every request (it owns the system prompt and tools)
    messages: list[dict[str, Any]]  # the conversation so far, new user message included
    orchestrator: Orchestrator
    events: EventSink
    record: Callable[[dict[str, Any]], None]  # persist one message of this turn
    # Make the recorded messages durable: once per step, before the model sees its results.
    sync: Callable[[], Awaitable[object]] | None = None
    max_steps: int = 25
    deadline_s: float = 1800.0


async def run_turn(inputs: TurnInputs) -> TurnOutcome:
    outcome = TurnOutcome("done")
    started = time.monotonic()
    used_ids = _used_call_ids(inputs.messages)  # once a turn; kept up to date as calls come
    for _ in range(inputs.max_steps):
        if time.monotonic() - started > inputs.deadline_s:
            return _stop(outcome, "maxTurns", "the turn reached its time limit")
        if inputs.sync is not None:  # one fsync per step (issue 22): the last step's records
            await inputs.sync()
        try:
            reply = await _ask_model(inputs)
        except BackendError as exc:
            if exc.partial_text:
                _append(
                    inputs, {"role": "assistant", "content": exc.partial_text, "incomplete": True}
                )
                outcome.text += exc.partial_text
            return _stop(outcome, "error", str(exc))
        outcome.usage.add(reply.usage)
        outcome.text = reply.text
        if reply.cut_off_call:
            # BF-14: a call cut off by the token limit (or one that parsed only after the
            # missing-brace repair) is never run; the model is asked to retry smaller.
            _append(inputs, {"role": "assistant", "content": reply.raw_text})
            _append(inputs, {"role": "user", "content": TRUNCATED_CALL_NOTE})
            continue
        calls = _with_unique_ids(reply.calls, len(inputs.messages), used_ids)
        message = dict(assistant_message(reply.text, calls))
        if calls:
            message.update(reply.history_extras)
        _append(inputs, message)
        if not calls:
            return outcome
        stopped = await _run_calls(inputs, calls, outcome)
        if stopped is not None:
            return _stop(outcome, "maxTurns", stopped)
    return _stop(outcome, "maxTurns", f"stopped after {inputs.max_steps} model calls (maxTurns)")


async def _ask_model(inputs: TurnInputs) -> AssistantReply:
    """One model call; after a context-length error, one compaction and one retry."""
    events = inputs.events

    def on_text(delta: str) -> None:
        events.emit("text", {"delta": delta})

    def on_notice(note: str) -> None:
        events.emit("notice", {"message": note})

    request = await inputs.context.request(on_notice)
    try:
        reply = await inputs.model.reply(request, on_text=on_text, on_notice=on_notice)
    except BackendError as exc:
        retry = None
        if exc.kind == "context_length":
            retry = await inputs.context.after_overflow(request, exc, on_notice)
        if retry is None:
            raise
        request = retry
        reply = await inputs.model.reply(request, on_text=on_text, on_notice=on_notice)
    inputs.context.observe(request, reply.usage)
    return reply


async def _run_calls(inputs: TurnInputs, calls: list[ToolCall], outcome: TurnOutcome) -> str | None:
    """Runs the calls in order; returns why the turn must stop, or None to go on."""
    for position, call in enumerate(calls):
        inputs.events.emit(
            "toolCall", {"id": call.id, "name": call.name, "arguments": call.display_arguments()}
        )
        result = await inputs.orchestrator.execute(call)
        outcome.tool_calls += 1
        inputs.events.emit(
            "toolResult", {"id": call.id, "ok": result.ok, "summary": result.summary}
        )
        _append(inputs, dict(tool_message(call.id, result.content)))
        if result.stop_turn:
            # Every call needs a result, or the next request is rejected by the backend.
            for skipped in calls[position + 1 :]:
                _append(
                    inputs, dict(tool_message(skipped.id, "Error: not run (the turn was stopped)"))
                )
            return result.summary
    return None


def _stop(outcome: TurnOutcome, reason: StopReason, message: str) -> TurnOutcome:
    outcome.stop_reason = reason
    outcome.error = message
    return outcome


def _append(inputs: TurnInputs, message: dict[str, Any]) -> None:
    inputs.messages.append(message)
    inputs.record(message)


def _used_call_ids(messages: list[dict[str, Any]]) -> set[str]:
    return {
        str(call.get("id"))
        for message in messages
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    }


def _with_unique_ids(calls: list[ToolCall], position: int, used: set[str]) -> list[ToolCall]:
    """Ids must be present and unique across the conversation: some servers send none, the
    same one twice, or restart at call_0 on every reply. `used` holds the conversation's ids
    (issue 22: a set kept with the turn, not a pass over the history per step)."""
    for n, call in enumerate(calls):
        if not call.id or call.id in used:
            call.id = f"call_{position}_{n}"
            while call.id in used:
                call.id += "_"
        used.add(call.id)
    return calls
