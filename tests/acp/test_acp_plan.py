"""Plan mode, todo lists and subagents over ACP, with the SDK's client driving the real
`claw-lsp acp` subprocess against the scripted model: `plan` is a session mode whose prompts
are plan-mode turns, the plan reaches the client as a message and a `plan` update,
`/accept-plan` carries it out at the tier as it is (never raised), `todo_write` becomes a
`plan` update with the statuses, and a subagent's calls nest in its `task` call."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError
from acp.schema import TextContentBlock

from tests.acp.client import RecordingClient, acp_agent
from tests.support.calls import call, tool_results
from tests.support.lsp import server_env
from tests.support.scripted_model import ScriptedModel

PLAN = "1. Rename greet to hello\n2. Add a test"
EDITED = "1. Rename greet to hello\n2. Add a test\n3. Run the tests"
WRITE = call("write_file", path="new.py", content="N\n")
READ = call("read_file", path="app.py")
WRITES = {"write_file", "edit_file", "apply_patch", "shell"}


def text(value: str) -> list[TextContentBlock]:
    return [TextContentBlock(type="text", text=value)]


def hand_over(plan: str) -> dict[str, Any]:
    return {
        "text": "Here is my plan.",
        "tool_calls": [{"name": "exit_plan_mode", "arguments": {"plan": plan}}],
    }


def names(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools", [])}


def plans(client: RecordingClient) -> list[list[tuple[str, str]]]:
    return [[(e.content, e.status) for e in u.entries] for u in client.of("plan")]


async def test_plan_mode_hands_over_a_plan_and_accept_plan_carries_it_out(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add(WRITE, READ, hand_over(PLAN), WRITE, {"text": "carried out"})
    client = RecordingClient()
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        sid = session.session_id
        assert [m.id for m in session.modes.available_modes] == [
            "read-only",
            "write",
            "shell",
            "plan",
        ]
        await agent.conn.set_session_mode(session_id=sid, mode_id="write")
        switched = await agent.conn.set_config_option(
            config_id="mode", session_id=sid, value="plan"
        )
        assert switched.config_options[0].current_value == "plan"
        planned = await asyncio.wait_for(
            agent.conn.prompt(session_id=sid, prompt=text("plan the rename")), 60
        )
        planned_message = client.message_text()
        planned_plans = plans(client)
        accepted = await asyncio.wait_for(
            agent.conn.prompt(session_id=sid, prompt=text(f"/accept-plan {EDITED}")), 60
        )
    assert planned.stop_reason == "end_turn" and accepted.stop_reason == "end_turn"
    requests = model.chat_requests()
    assert len(requests) == 5  # nothing after exit_plan_mode: the turn ends with the plan
    for request in requests[:3]:  # plan mode at the write tier: still no write offered
        assert "exit_plan_mode" in names(request) and not names(request) & WRITES
    assert tool_results(model)[0].startswith("Error: unknown tool")
    assert not client.permissions  # writes were simply not offered: no dialog
    assert "Here is my plan." in planned_message and PLAN in planned_message
    assert planned_plans == [[("Rename greet to hello", "pending"), ("Add a test", "pending")]]
    # The commands picker offers /accept-plan next to claw's own commands.
    (commands,) = client.of("available_commands_update")
    assert "accept-plan" in [c.name for c in commands.available_commands]
    assert "plan" in [c.name for c in commands.available_commands]
    # Accepting: back to the tier the session had (write), the edited plan as instruction,
    # the todo list seeded from it (a `plan` update), the write done without asking.
    assert [u.current_mode_id for u in client.of("current_mode_update")] == ["write"]
    assert {"write_file", "shell"} <= names(requests[3])
    assert "exit_plan_mode" not in names(requests[3])
    instruction = requests[3]["messages"][-1]["content"]
    assert "accepted this plan" in instruction and EDITED in instruction
    assert plans(client)[len(planned_plans)] == [
        ("Rename greet to hello", "pending"),
        ("Add a test", "pending"),
        ("Run the tests", "pending"),
    ]
    assert (workspace / "new.py").read_text() == "N\n"
    assert "carried out" in client.message_text()


async def test_accept_plan_never_raises_the_tier(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add(hand_over(PLAN), WRITE, {"text": "could not write"})
    client = RecordingClient(permission_answers=["reject"])
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=True, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        sid = session.session_id
        await agent.conn.set_session_mode(session_id=sid, mode_id="plan")
        await agent.conn.prompt(session_id=sid, prompt=text("plan it"))
        done = await agent.conn.prompt(session_id=sid, prompt=text("/accept-plan"))
        # Nothing left to carry out in a fresh session: a clear JSON-RPC error, agent stays.
        other = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        with pytest.raises(RequestError) as refused:
            await agent.conn.prompt(session_id=other.session_id, prompt=text("/accept-plan"))
        model.add({"text": "still here"})
        again = await agent.conn.prompt(session_id=other.session_id, prompt=text("hi"))
    assert done.stop_reason == "end_turn"
    # Read-only stays read-only: the write asked (the user rejected), nothing was written.
    assert [u.current_mode_id for u in client.of("current_mode_update")] == ["read-only"]
    (asked,) = client.permissions
    assert "new.py" in asked["tool_call"].title
    assert client.writes == [] and not (workspace / "new.py").exists()
    assert PLAN in model.chat_requests()[1]["messages"][-1]["content"]
    assert "no plan to accept" in json.dumps(refused.value.data)
    assert again.stop_reason == "end_turn"


async def test_todo_write_reaches_the_client_as_a_plan_with_statuses(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    todos = [
        {"content": "read app.py", "status": "completed"},
        {"content": "rename greet", "status": "in_progress"},
        {"content": "run the tests", "status": "pending"},
    ]
    model.add(call("todo_write", todos=todos), call("todo_write", todos=[]), {"text": "ok"})
    client = RecordingClient()
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("work"))
    assert done.stop_reason == "end_turn"
    assert plans(client) == [
        [
            ("read app.py", "completed"),
            ("rename greet", "in_progress"),
            ("run the tests", "pending"),
        ],
        [],  # the list cleared: the client's plan is empty too
    ]
    starts = client.of("tool_call")
    assert [s.kind for s in starts] == ["think", "think"]


CHILD_DRAFT = "CHILD-DRAFT: looking around"
ANSWER = "greet is defined in app.py line 1."


async def test_a_subagents_calls_nest_in_its_task_call_and_its_text_stays_out(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    task = {
        "tool_calls": [
            {
                "name": "task",
                "id": "call_task",
                "arguments": {"description": "find greet", "prompt": "Find greet."},
            }
        ]
    }
    model.add(
        task,
        {"text": CHILD_DRAFT, "tool_calls": [{"name": "grep", "arguments": {"pattern": "greet"}}]},
        {"text": ANSWER},
        {"text": "It is in app.py."},
    )
    client = RecordingClient()
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("where?"))
    assert done.stop_reason == "end_turn"
    # One top-level tool call: the task. The child's grep is a line of its content.
    (start,) = client.of("tool_call")
    assert start.tool_call_id == "call_task" and start.kind == "other"
    updates = [u for u in client.of("tool_call_update") if u.tool_call_id == "call_task"]
    nested = [u.content[0].content.text for u in updates if u.status == "in_progress"]
    assert nested[0] == "… grep: greet" and nested[-1] == "✓ grep: greet"
    final = updates[-1]
    assert final.status == "completed" and ANSWER in final.content[0].content.text
    # The child's draft text never streams into the parent's message.
    message = client.message_text()
    assert "It is in app.py." in message and CHILD_DRAFT not in message
