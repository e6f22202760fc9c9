"""What plans, todo lists and subagents (issue 18) add to a model turn, in one place so the
turn assembly (agent/turn.py) only calls in: the todo board and its reminder, plan mode's
settings, tools and hand-over, and the subagent runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from claw_lsp.agent.state import FolderState, SessionState
from claw_lsp.agent.todos import SessionTodos, reminder, todos_from_plan
from claw_lsp.foundation.events import EventSink
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.base import ToolContext


class TurnExtras:
    def __init__(
        self,
        store: SessionStore,
        state: FolderState,
        session: SessionState,
        turn: int,
        events: EventSink,
    ) -> None:
        self.session = session
        self.turn = turn
        self._events = events

        def record(entry: dict[str, Any]) -> None:
            store.append(state.root.uri, session.id, [{**entry, "turn": turn}])

        self._record = record
        self.todos = SessionTodos(session.todos, record, events)

    def attach(self, ctx: ToolContext) -> None:
        ctx.todos = self.todos

    def reminder(self) -> Callable[[], str | None]:
        return lambda: reminder(self.session.todos)

    def seed_from_plan(self, plan: str | None) -> None:
        """An accepted plan seeds the todo list with its steps."""
        if plan:
            self.todos.replace(todos_from_plan(plan))
