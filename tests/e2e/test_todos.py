"""The todo list through the real server and the scripted model: todo_write -> claw/event
todo, /todos and claw.todos; the reminder block at the end of the next request while the
system prompt and tools stay byte-identical; invalid lists are tool errors; the list survives
a /compact and a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claw_lsp.agent.todos import REMINDER_OPEN
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

TODOS = [
    {"content": "read app.py", "status": "completed"},
    {"content": "fix  greet", "status": "in_progress", "id": "fix"},
    {"content": "add a test", "status": "pending"},
]
WIRE = [
    {"id": "1", "content": "read app.py", "status": "completed"},
    {"id": "fix", "content": "fix greet", "status": "in_progress"},
    {"id": "2", "content": "add a test", "status": "pending"},
]


def todo_call(todos: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tool_calls": [{"name": "todo_write", "arguments": {"todos": todos}}]}


def fixed_part(request: dict[str, Any]) -> str:
    return json.dumps({"system": request["messages"][0], "tools": request["tools"]})


async def test_todo_list_events_reminder_errors_compact_and_restart(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    two_in_progress = [{"content": "a", "status": "in_progress"}] * 2
    unknown_status = [{"content": "a", "status": "done"}]
    model.add(
        todo_call(TODOS),
        todo_call(two_in_progress),
        todo_call(unknown_status),
        {"text": "working on it"},
        *({"text": f"r{n}"} for n in range(2, 5)),
        {"text": "SUMMARY: the user asked about greet."},
        {"text": "after compact"},
    )
    env = server_env(model.base_url, state_dir)
    claw = await start_claw([workspace], env)
    try:
        first = await claw.ask("fix greet")
        shown = await claw.ask("/todos")
        listed = await claw.command("claw.todos", {})
        for n in range(2, 5):
            await claw.ask(f"p{n}")
        compacted = await claw.ask("/compact")
        await claw.ask("after")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert REMINDER_OPEN not in json.dumps(requests[0])  # no list yet: no block
    # The list is shown at the end: after the tool result, as a user message of its own.
    last = requests[1]["messages"][-1]
    assert last["role"] == "user" and last["content"].startswith(REMINDER_OPEN)
    assert "[x] 1. read app.py\n[>] fix. fix greet\n[ ] 2. add a test" in last["content"]
    assert json.dumps(requests[1]["messages"]).count(REMINDER_OPEN) == 1
    assert all(fixed_part(r) == fixed_part(requests[0]) for r in requests if "tools" in r)
    assert "todo_write" in [t["function"]["name"] for t in requests[0]["tools"]]
    errors = [m["content"] for r in requests[2:4] for m in r["messages"][-2:-1]]
    assert "at most one todo may be in_progress" in errors[0] and errors[0].startswith("Error:")
    assert "todos.0.status" in errors[1] and errors[1].startswith("Error:")
    # Only the valid list became the session's and was announced.
    todo_events = [e for e in claw.recorder.events if e["kind"] == "todo"]
    assert [e["todos"] for e in todo_events] == [WIRE]
    assert todo_events[0]["session"] == first["session"]
    assert shown["stopReason"] == "local" and "Todo list (1/3 done)" in shown["text"]
    assert "[>] fix. fix greet" in shown["text"]
    assert listed == {"session": first["session"], "todos": WIRE}
    # The next turn's prompt carries the block at its end (one user message, not two).
    p2 = requests[4]["messages"][-1]
    assert p2["content"].endswith("[ ] 2. add a test\n</todo-list>") and "p2" in p2["content"]
    assert "into a summary" in compacted["text"]
    after_compact = requests[-1]["messages"]
    assert "SUMMARY" in after_compact[1]["content"]
    assert after_compact[-1]["content"].endswith("</todo-list>")
    assert "[>] fix. fix greet" in after_compact[-1]["content"]

    model.add({"text": "resumed"})
    claw = await start_claw([workspace], env)
    try:
        again = await claw.command("claw.todos", {"session": first["session"]})
        await claw.ask("continue")
    finally:
        await claw.client.shutdown_session()
    assert again == {"session": first["session"], "todos": WIRE}
    resumed = model.chat_requests()[-1]["messages"][-1]["content"]
    assert "continue" in resumed and "[>] fix. fix greet" in resumed
