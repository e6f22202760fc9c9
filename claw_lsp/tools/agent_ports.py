"""What the agent's own tools (todo_write, exit_plan_mode, task) need from the agent: the
session's todo list, the plan hand-over and the subagent runner. The agent layer implements
these; the tools only see the ports, so a tool never reaches into session state directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

TodoStatus = Literal["pending", "in_progress", "completed"]
SubagentTools = Literal["read-only", "inherit"]


@dataclass(frozen=True)
class Todo:
    id: str
    content: str
    status: TodoStatus

    def to_wire(self) -> dict[str, str]:
        return {"id": self.id, "content": self.content, "status": self.status}


class TodoBoard(Protocol):
    """The session's todo list: replaced whole, stored in the session, shown to the user."""

    def current(self) -> list[Todo]: ...

    def replace(self, todos: list[Todo]) -> None: ...


class PlanDesk(Protocol):
    """Plan mode: where the model hands its plan over (the turn then ends with it)."""

    def hand_over(self, plan: str) -> None: ...


@dataclass(frozen=True)
class DelegateRequest:
    description: str
    prompt: str
    tools: SubagentTools | None  # None: the agent type's default
    agent: str | None  # an agent type's name; None: the general one
    call_id: str  # the parent's tool call, which the child's events and records name


@dataclass(frozen=True)
class DelegateResult:
    content: str  # the child's final answer (capped): the parent's tool result
    summary: str
    ok: bool = True


class Delegator(Protocol):
    """Runs a child agent to its final answer (agent/subagents.py)."""

    async def delegate(self, request: DelegateRequest) -> DelegateResult: ...
