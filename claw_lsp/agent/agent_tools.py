"""The agent's own tools as a tool source, registered right after the built-ins: todo_write
and task (its description lists the folder's agent types). exit_plan_mode joins only plan-mode
turns (agent/turn_extras.py)."""

from __future__ import annotations

from collections.abc import Sequence

from claw_lsp.permissions.paths import Root
from claw_lsp.tools.base import Tool
from claw_lsp.tools.todo import TODO_WRITE


class AgentTools:
    name = "agent"

    def tools(self, root: Root) -> Sequence[Tool]:
        return [TODO_WRITE]
