"""The agent's own tools (todo_write, exit_plan_mode, task) through the real orchestrator:
their access kinds run at read-only with approvals off, a rule naming one denies it (and it
is then not offered), and without the agent's port each reports an error instead of acting."""

from __future__ import annotations

from pathlib import Path

from claw_lsp.foundation.messages import ToolCall
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.access import access_kind
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.tools.agent_ports import Todo
from claw_lsp.tools.builtin import BUILTIN_TOOLS
from claw_lsp.tools.catalog import Toolbox
from claw_lsp.tools.orchestrator import Orchestrator
from claw_lsp.tools.plan import EXIT_PLAN_MODE
from claw_lsp.tools.task import task_tool
from claw_lsp.tools.todo import TODO_WRITE
from tests.security.conftest import Harness


class Board:
    def __init__(self) -> None:
        self.todos: list[Todo] = []

    def current(self) -> list[Todo]:
        return list(self.todos)

    def replace(self, todos: list[Todo]) -> None:
        self.todos = todos


def orchestrator(harness: Harness) -> Orchestrator:
    tools = Toolbox.of([*BUILTIN_TOOLS, TODO_WRITE, EXIT_PLAN_MODE, task_tool("- general")])
    return Orchestrator(tools, harness.ctx, harness.approver, SessionGrants())


async def test_state_kinds_run_at_read_only_and_rules_deny_them(ws: Path, tmp_path: Path) -> None:
    assert all(access_kind(k) is not None for k in ("todo", "plan", "agent"))
    harness = Harness([ws], state_dir=tmp_path / "state", tier=Tier.READ_ONLY, approvals="deny")
    board = Board()
    harness.ctx.todos = board
    orch = orchestrator(harness)
    todos = {"todos": [{"content": "look", "status": "in_progress"}]}
    result = await orch.execute(ToolCall("c1", "todo_write", todos))
    assert result.ok and [t.content for t in board.todos] == ["look"]
    assert not harness.approver.requests  # nothing asked
    # No port: the tool reports it instead of acting (a subagent has no todo list or plan).
    harness.ctx.todos = None
    for name, args in (
        ("todo_write", todos),
        ("exit_plan_mode", {"plan": "1. x"}),
        ("task", {"description": "d", "prompt": "p"}),
    ):
        failed = await orch.execute(ToolCall(f"c-{name}", name, args))
        assert not failed.ok and (
            "not available" in failed.content or "only in plan mode" in failed.content
        ), name
    harness.set(permissions={"deny": ["task", "todo_write"]})
    offered = {t.name for t in orch.toolbox.offered(Tier.READ_ONLY, "deny", _rules(harness))}
    assert "task" not in offered and "todo_write" not in offered and "exit_plan_mode" in offered
    denied = await orch.execute(ToolCall("c9", "task", {"description": "d", "prompt": "p"}))
    assert not denied.ok and "unknown tool" in denied.content


def _rules(harness: Harness) -> PermissionRules:
    return PermissionRules.from_config(harness.settings.permissions)
