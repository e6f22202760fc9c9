"""The agent's own tools as a tool source, registered right after the built-ins: todo_write
and task (its description lists the folder's agent types). exit_plan_mode joins only plan-mode
turns (agent/turn_extras.py)."""

from __future__ import annotations

from collections.abc import Sequence

from claw_lsp.agent.subagent_types import agent_types, listing
from claw_lsp.permissions.paths import Root
from claw_lsp.tools.base import Tool
from claw_lsp.tools.task import task_tool
from claw_lsp.tools.todo import TODO_WRITE


class AgentTools:
    name = "agent"

    def __init__(self) -> None:
        # The same Tool object while the listing is unchanged: the prefix stays byte-stable.
        self._task: dict[str, Tool] = {}

    def tools(self, root: Root) -> Sequence[Tool]:
        agents = listing(agent_types(root.real_path))
        task = self._task.get(agents)
        if task is None:
            task = self._task[agents] = task_tool(agents)
        return [TODO_WRITE, task]
