"""Subagents through the real server: the child's first request has a fresh context (the
task, not the parent's history), the parent gets only the child's answer, a child write at
read-only is refused, a child never gets `task`, its events carry the parent, its messages
are recorded under the parent call, user-defined agent types narrow tools, and cancelling
the parent stops both."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from claw_lsp.agent.history import messages_from_records
from claw_lsp.agent.subagent_types import EXPLORE_PROMPT
from claw_lsp.sessions.store import SessionStore
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

PARENT_PROMPT = "PARENT-ONLY: where is greet? delegate it"
CHILD_PROMPT = "Find where greet is defined."
ANSWER = "greet is defined in app.py line 1."


def task(agent: str | None = "explore", tools: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"description": "find greet", "prompt": CHILD_PROMPT}
    if agent:
        args["agent"] = agent
    if tools:
        args["tools"] = tools
    return {"tool_calls": [{"name": "task", "arguments": args, "id": "call_task"}]}


def names(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools", [])}


GREP = {"tool_calls": [{"name": "grep", "arguments": {"pattern": "def greet"}}]}
WRITE = {"tool_calls": [{"name": "write_file", "arguments": {"path": "new.py", "content": "N"}}]}


async def test_child_context_answer_refusals_events_and_records(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(task(), GREP, WRITE, {"text": ANSWER}, {"text": "It is in app.py."})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    try:
        result = await claw.ask(PARENT_PROMPT)
    finally:
        await claw.client.shutdown_session()
    parent_first, child_first, child_second, child_third, parent_next = model.chat_requests()
    assert "task" in names(parent_first) and "write_file" in names(parent_first)
    # A fresh context: system prompt + one user message with the task; no parent history.
    assert child_first["messages"][0] == parent_first["messages"][0]
    assert [m["role"] for m in child_first["messages"]] == ["system", "user"]
    child_task = child_first["messages"][1]["content"]
    assert CHILD_PROMPT in child_task and EXPLORE_PROMPT in child_task
    assert "PARENT-ONLY" not in json.dumps(child_first)
    # Read-only child: no writes offered, no task, no todo_write; a write attempt is refused.
    assert {"read_file", "grep"} <= names(child_first)
    assert not names(child_first) & {"write_file", "shell", "task", "todo_write"}
    refused = child_third["messages"][-1]
    assert refused["role"] == "tool" and refused["content"].startswith("Error: unknown tool")
    assert not (workspace / "new.py").exists() and not claw.recorder.approvals
    assert "def greet(name)" in json.dumps(child_second["messages"])  # the grep result
    # The parent gets the answer as the task's result, none of the child's steps.
    last = parent_next["messages"][-1]
    assert last == {"role": "tool", "tool_call_id": "call_task", "content": ANSWER}
    parent_text = json.dumps(parent_next["messages"][1:])  # after the system prompt
    assert "def greet(name)" not in parent_text and "grep" not in parent_text
    assert result["text"] == "It is in app.py." and result["stopReason"] == "done"
    # Events: the child's carry the parent call; the parent's own do not.
    tag = {"session": result["session"], "turn": 1, "callId": "call_task"}
    calls = [e for e in claw.recorder.events if e["kind"] == "toolCall"]
    assert [(c["name"], c.get("parent")) for c in calls] == [
        ("task", None),
        ("grep", tag),
        ("write_file", tag),
    ]
    child_text = [e for e in claw.recorder.events if e["kind"] == "text" and e.get("parent")]
    assert [e["delta"] for e in child_text] == [ANSWER]
    assert ANSWER not in "".join(
        e["delta"] for e in claw.recorder.events if e["kind"] == "text" and not e.get("parent")
    )
    # Recorded under the parent call in the same session file; not part of the history.
    loaded = SessionStore(state_dir).load(workspace.as_uri(), result["session"])
    assert loaded is not None
    child = [r for r in loaded.records if r["type"] == "subagent"]
    assert all(r["parent"]["callId"] == "call_task" and r["agent"] == "explore" for r in child)
    assert [r["message"]["role"] for r in child if "message" in r] == [
        "user", "assistant", "tool", "assistant", "tool", "assistant",
    ]  # fmt: skip
    assert child[-1]["result"]["stopReason"] == "done" and child[-1]["result"]["toolCalls"] == 2
    history = json.dumps(messages_from_records(loaded.records))
    assert "def greet(name)" not in history and ANSWER in history


async def test_user_defined_agent_narrows_tools_even_when_inheriting(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: reviews code for bugs\ntools: Read, Grep, Bash9\n---\n"
        "You review code. REVIEWER-PROMPT\n"
    )
    model.add(task("reviewer", "inherit"), {"text": "looks fine"}, task("nobody"), {"text": "ok"})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "shell"}
    )
    try:
        await claw.ask("review app.py")
    finally:
        await claw.client.shutdown_session()
    parent_first, child_first, parent_next, parent_last = model.chat_requests()
    (task_tool,) = [t for t in parent_first["tools"] if t["function"]["name"] == "task"]
    assert "- reviewer: reviews code for bugs" in task_tool["function"]["description"]
    assert "- explore:" in task_tool["function"]["description"]
    assert names(child_first) == {"read_file", "grep"}  # narrowed, though the tier is shell
    assert "REVIEWER-PROMPT" in child_first["messages"][1]["content"]
    assert parent_next["messages"][-1]["content"] == "looks fine"
    unknown = parent_last["messages"][-1]["content"]
    assert unknown.startswith("Error: no agent type 'nobody'") and "reviewer" in unknown


async def test_cancel_during_the_child_stops_both(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(task(), {"text": "slow " * 300, "chunks": 300, "chunk_delay": 0.05})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        request = asyncio.ensure_future(claw.ask("delegate"))
        deadline = time.monotonic() + 20
        while len(model.chat_requests()) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert (await claw.command("claw.cancel", {}))["cancelled"] is True
        result = await asyncio.wait_for(request, 10)
        model.add({"text": "next turn"})
        after = await claw.ask("still there?")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "cancelled"
    requests = model.chat_requests()
    assert len(requests) == 3  # parent, child (cut off), then only the next turn
    closed = requests[2]["messages"]
    assert any(
        m["role"] == "tool" and m["tool_call_id"] == "call_task" and "cancelled" in m["content"]
        for m in closed
    )
    assert after["text"] == "next turn"


async def test_inherit_asks_as_the_parent_would_and_depth_decides_task(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(task("general", "inherit"), WRITE, {"text": "could not write"}, {"text": "ok"})
    env = server_env(model.base_url, state_dir)
    claw = await start_claw([workspace], env)  # read-only, approvals ask
    claw.recorder.approval_answers.append(None)  # the user dismisses the dialog
    try:
        result = await claw.ask("delegate a write")
    finally:
        await claw.client.shutdown_session()
    _, child_first, *_ = model.chat_requests()
    assert "write_file" in names(child_first) and "task" not in names(child_first)
    assert len(claw.recorder.approvals) == 1 and not (workspace / "new.py").exists()
    approvals = [e for e in claw.recorder.events if e["kind"] == "approval"]
    assert approvals and approvals[0]["parent"]["callId"] == "call_task"
    assert result["stopReason"] == "done"

    model.add({"text": "no task"}, task(), {"text": "child"}, {"text": "parent"})
    for depth in (0, 2):
        claw = await start_claw([workspace], env, init_options={"subagentDepth": depth})
        try:
            await claw.ask("hello")
        finally:
            await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert "task" not in names(requests[4])  # subagentDepth 0: no task tool at all
    assert "task" in names(requests[5]) and "task" in names(requests[6])  # depth 2: nested
