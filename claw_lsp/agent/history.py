"""Conversation history from session records, made safe to send again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def messages_from_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages of a stored session; a compaction record replaces what came before it."""
    messages: list[dict[str, Any]] = []
    for record in records:
        kind = record.get("type")
        if kind == "message" and isinstance(record.get("message"), Mapping):
            message = dict(record["message"])
            if message.get("role") in ("user", "assistant", "tool"):
                messages.append(message)
        elif kind == "compaction" and isinstance(record.get("messages"), list):
            messages = [dict(m) for m in record["messages"] if isinstance(m, Mapping)]
    return messages


def repair_history(
    messages: list[dict[str, Any]], note: str = "interrupted"
) -> list[dict[str, Any]]:
    """Every assistant tool call needs a tool result, or backends reject the next request.
    A cancelled or crashed turn leaves calls unanswered: answer them with a note."""
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    for message in messages:
        role = message.get("role")
        if role != "tool" and pending:
            out.extend(_closing(pending, note))
            pending = []
        out.append(message)
        if role == "assistant":
            pending = [c.get("id", "") for c in message.get("tool_calls") or []]
        elif role == "tool" and message.get("tool_call_id") in pending:
            pending.remove(message["tool_call_id"])
    if pending:
        out.extend(_closing(pending, note))
    return out


def _closing(call_ids: list[str], note: str) -> list[dict[str, Any]]:
    return [
        {"role": "tool", "tool_call_id": cid, "content": f"Error: not run ({note})"}
        for cid in call_ids
    ]


def final_answers(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The answer each turn of a session ended with: its last assistant text without calls."""
    answers: dict[int, str] = {}
    for record in records:
        message = record.get("message") if record.get("type") == "message" else None
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, str) and content.strip() and not message.get("tool_calls"):
            answers[int(record.get("turn") or 0)] = content.strip()
    return [answers[turn] for turn in sorted(answers)]
