"""Plan mode, the todo checklist and a subagent inside real VS Code (issues 18 and 20): the
toolbar's mode switch to Plan, the plan with Accept / Edit / Keep planning, the accepted turn at
the folder's tier carrying the plan (or the user's edited text), the todo list ticking through,
the subagent's steps nested and collapsed under its `task` call. Same code-server run as
test_vscode.py (conftest.py); the scripts are in harness.py, the clicks in drive_plan.mjs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.vscode.harness import CHILD_ANSWER, EDITED_PLAN, PLAN, _scenario

pytestmark = pytest.mark.vscode

WRITE_TOOLS = {"edit_file", "write_file"}


def _tool_names(request: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in request.get("tools", [])}


def _last_user(request: dict[str, Any]) -> str:
    return str([m for m in request["messages"] if m.get("role") == "user"][-1]["content"])


def test_plan_mode_from_the_toolbar_offers_no_write_tools(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "plan")
    assert record["modeSelected"] == "plan"
    requests = record["requests"]
    assert len(requests) == 7, [_last_user(r)[:80] for r in requests]
    plan_tools = _tool_names(requests[0])
    assert "exit_plan_mode" in plan_tools and "todo_write" in plan_tools and "task" in plan_tools
    assert not plan_tools & WRITE_TOOLS, plan_tools
    # The accepted turn runs at the folder's tier (write): its write tools are back.
    accepted_tools = _tool_names(requests[4])
    assert accepted_tools >= WRITE_TOOLS and "exit_plan_mode" not in accepted_tools


def test_the_checklist_and_the_plan_render_with_their_buttons(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "plan")
    assert record["planTodos"] == [
        {"text": "◐ Read demo.py", "status": "in_progress"},
        {"text": "☐ Set x to 7", "status": "pending"},
    ]
    assert record["planTodoTitle"] == "Todo 0/2"
    assert "Read demo.py" in record["planText"] and "Set x to 7" in record["planText"]
    assert record["planButtons"] == ["Accept", "Edit", "Keep planning"]
    assert "Plan ready" in record["planTurnText"]


def test_a_subagent_shows_nested_and_collapsed(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "plan")
    assert record["taskOpen"] is False
    assert CHILD_ANSWER in record["subagentText"]
    child = record["requests"][2]
    assert "Find every assignment to x" in _last_user(child)
    assert "Plan how to set x to 7" not in str(child["messages"]), "the child has no parent history"
    # The parent gets the child's answer as the task call's result, not its messages.
    task_result = [m for m in record["requests"][3]["messages"] if m.get("role") == "tool"][-1]
    assert CHILD_ANSWER in str(task_result["content"])


def test_accept_runs_the_plan_and_ticks_the_todos(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "plan")
    instruction = _last_user(record["requests"][4])
    assert "The user accepted this plan" in instruction
    for step in PLAN.splitlines():
        assert step in instruction
    assert record["acceptedTodos"] == [
        {"text": "☑ Read demo.py", "status": "completed"},
        {"text": "☑ Set x to 7", "status": "completed"},
    ]
    assert record["acceptedTodoTitle"] == "Todo 2/2"
    # Between the two todo_write calls the model saw the list half done (the reminder).
    reminder = _last_user(record["requests"][5])
    assert "[x] 1. Read demo.py\n[>] 2. Set x to 7" in reminder
    assert "Both steps are done." in record["acceptedTurnText"]
    assert record["planStateAfter"] == "accepted"
    assert record["modeAfterAccept"] == "ask", "after Accept the next message is an ordinary ask"


def test_an_edited_plan_is_what_the_model_receives(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "planEdit")
    assert "Rename x to y" in record["editorBefore"]
    instruction = _last_user(record["requests"][1])
    assert "The user accepted this plan" in instruction
    for step in EDITED_PLAN.splitlines():
        assert step in instruction
    assert "Rename x to y" not in instruction
    # The edited plan's steps seeded the todo list the view shows.
    assert "☐ Rename x to renamed_by_user" in record["acceptedTurnText"]
    assert "Renamed." in record["acceptedTurnText"]


def test_keep_planning_settles_the_plan_and_stays_in_plan_mode(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "planKeep")
    assert record["planState"] == "superseded"
    assert record["buttonsAfter"] == 0
    assert record["modeAfter"] == "plan"
    assert record["modeBack"] == "ask"
    assert len(record["requests"]) == 1, "Keep planning sends nothing to the model"


def test_claw_accept_plan_from_the_palette(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "planPalette")
    instruction = _last_user(record["requests"][1])
    assert "The user accepted this plan" in instruction
    assert "- Accepted from the palette" in instruction
    assert "Carried out." in record["acceptedTurnText"]
    assert record["planStateAfter"] == "accepted", "the view's plan no longer offers its buttons"
