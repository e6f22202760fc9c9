"""Plan mode through the real server: only read-only tools are offered (a write the model
attempts anyway is refused, no dialog), exit_plan_mode ends the turn with stopReason "plan",
and claw.acceptPlan (with edited text) carries the plan out at the folder's tier, seeding the
todo list; accepting never raises the tier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from claw_lsp.agent.turn_extras import PLAN_MODE_NOTE
from tests.support.lsp import ClawSession, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

PLAN = "1. Rename greet to hello\n2. Add a test"
EDITED = "1. Rename greet to hello\n2. Add a test\n3. Run the tests"
WRITE = {"tool_calls": [{"name": "write_file", "arguments": {"path": "new.py", "content": "N\n"}}]}
READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]}


def hand_over(plan: str) -> dict[str, Any]:
    return {
        "text": "Here is my plan.",
        "tool_calls": [{"name": "exit_plan_mode", "arguments": {"plan": plan}}],
    }


async def code_actions(claw: ClawSession, uri: str) -> list[types.CodeAction]:
    actions = await claw.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in actions or [] if isinstance(a, types.CodeAction)]


def names(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools", [])}


async def test_plan_mode_then_accept_at_the_folders_tier(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(WRITE, READ, hand_over(PLAN), WRITE, {"text": "carried out"})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    try:
        planned = await claw.ask("plan the rename", mode="plan")
        accepted = await claw.command("claw.acceptPlan", {"plan": EDITED})
        status = await claw.command("claw.status", {})
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert len(requests) == 5  # nothing after exit_plan_mode: the turn ends with the plan
    for request in requests[:3]:
        assert {"read_file", "grep", "exit_plan_mode", "todo_write"} <= names(request)
        assert not names(request) & {"write_file", "edit_file", "apply_patch", "shell"}
    assert requests[0]["messages"][-1]["content"].endswith(PLAN_MODE_NOTE)
    refused = requests[1]["messages"][-1]
    assert refused["role"] == "tool" and refused["content"].startswith("Error: unknown tool")
    assert planned["stopReason"] == "plan" and planned["plan"] == PLAN
    assert "Here is my plan." in planned["text"]
    assert not claw.recorder.approvals  # no dialog: writes were simply not offered
    plan_events = [e for e in claw.recorder.events if e["kind"] == "plan"]
    assert [e["plan"] for e in plan_events] == [PLAN]
    # Accepting: the same session, the folder's tier (write), the edited plan as instruction.
    assert accepted["session"] == planned["session"] and accepted["stopReason"] == "done"
    assert {"write_file", "shell"} <= names(requests[3]) and "exit_plan_mode" not in names(
        requests[3]
    )
    instruction, _, block = requests[3]["messages"][-1]["content"].partition("<todo-list>")
    assert "accepted this plan" in instruction and EDITED in instruction
    assert (workspace / "new.py").read_text() == "N\n"
    todos = [e["todos"] for e in claw.recorder.events if e["kind"] == "todo"]
    assert todos[0] == [
        {"id": "1", "content": "Rename greet to hello", "status": "pending"},
        {"id": "2", "content": "Add a test", "status": "pending"},
        {"id": "3", "content": "Run the tests", "status": "pending"},
    ]
    assert "[ ] 3. Run the tests" in block  # the seeded list, at the end of the request
    assert status["tier"] == "write"


async def test_accept_never_raises_the_tier(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(hand_over(PLAN), WRITE, {"text": "could not write"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    claw.recorder.approval_answers.append(None)  # the user dismisses the dialog
    uri = (workspace / "app.py").as_uri()
    try:
        planned = await claw.ask("/plan add a file")
        offered = [a.title for a in await code_actions(claw, uri)]
        accepted = await claw.command("claw.acceptPlan", {"session": planned["session"]})
        after = [a.title for a in await code_actions(claw, uri)]
        with pytest.raises(JsonRpcInvalidParams) as again:
            await claw.command("claw.acceptPlan", {"folder": workspace.as_uri()})
        status = await claw.command("claw.status", {})
    finally:
        await claw.client.shutdown_session()
    assert planned["stopReason"] == "plan" and planned["plan"] == PLAN
    requests = model.chat_requests()
    assert "add a file" in requests[0]["messages"][-1]["content"]
    assert "accepted this plan" in requests[1]["messages"][-1]["content"].split("<todo-list>")[0]
    # At read-only a write still asks (and the dismissed dialog refuses it): no raise.
    assert len(claw.recorder.approvals) == 1 and not (workspace / "new.py").exists()
    assert accepted["stopReason"] == "done" and status["tier"] == "read-only"
    # The plan is offered as a code action anywhere while it waits, and is used up by accepting
    # it: a second accept would run it twice.
    assert "Claw: Accept the plan: 1. Rename greet to hello" in offered
    assert not any(title.startswith("Claw: Accept the plan") for title in after)
    assert "no plan to accept" in str(again.value)


async def test_a_write_written_as_text_in_plan_mode_is_not_run(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    text_write = (
        '<tool_call>\n{"name": "write_file", "arguments": {"path": "new.py", "content": "N"}}\n'
        "</tool_call>"
    )
    model.add({"text": text_write}, hand_over(PLAN))
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "unsafe"}
    )
    try:
        planned = await claw.ask("plan it", mode="plan")
    finally:
        await claw.client.shutdown_session()
    # write_file is not a tool of this turn, so the text is not read as a call to it: nothing
    # runs (even at the unsafe tier), the reply stays text and the turn ends there.
    assert not (workspace / "new.py").exists() and not claw.recorder.approvals
    assert planned["stopReason"] == "done" and planned["toolCalls"] == 0
    assert len(model.chat_requests()) == 1
    assert "write_file" not in json.dumps(model.chat_requests()[0]["tools"])


def test_plan_and_accept_from_the_cli(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(hand_over(PLAN), WRITE, {"text": "carried out"})
    env = server_env(model.base_url, state_dir)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "claw_lsp", "ask", *args, "--folder", str(workspace)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    planned = cli("plan the change", "--plan", "--tier", "write")
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.endswith(PLAN + "\n") and "--accept-plan" in planned.stderr
    assert not names(model.chat_requests()[0]) & {"write_file", "shell"}
    nothing = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "", "--accept-plan", "--session", "new",
         "--folder", str(workspace)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert nothing.returncode == 1 and "no plan to accept" in nothing.stderr
    accepted = cli(EDITED, "--accept-plan", "--tier", "write", "--json")
    assert accepted.returncode == 0, accepted.stderr
    result = json.loads(accepted.stdout)
    assert result["stopReason"] == "done" and (workspace / "new.py").read_text() == "N\n"
    assert "Run the tests" in model.chat_requests()[1]["messages"][-1]["content"]
