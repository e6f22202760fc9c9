"""Small helpers for scripting tool calls and reading back what the model was sent."""

from __future__ import annotations

from typing import Any

from tests.support.scripted_model import ScriptedModel


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A scripted model reply that makes one tool call."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def tool_results(model: ScriptedModel) -> list[str]:
    """Each tool result the model was sent, in order (the request right after the call)."""
    results: list[str] = []
    for request in model.chat_requests():
        tail: list[str] = []
        for message in reversed(request["messages"]):
            if message["role"] != "tool":
                break
            tail.insert(0, message["content"])
        results += tail
    return results
