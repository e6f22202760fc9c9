"""The session's todo list: kept in SessionState, stored as `todos` records (the last one
wins on load, so it survives a restart; compaction never touches it), announced with
`claw/event todo` on every change, and shown to the model as a reminder block at the end of
each request (context/engine.py), so the prompt prefix stays byte-stable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from claw_lsp.foundation.events import EventSink
from claw_lsp.tools.agent_ports import Todo
from claw_lsp.tools.todo import MAX_CONTENT_CHARS, MAX_TODOS, render_todos

STATUSES = ("pending", "in_progress", "completed")
REMINDER_OPEN = "<todo-list>"
REMINDER_CLOSE = "</todo-list>"
# A plan's steps: top-level bullets or numbered items, with an optional [ ] / [x] box.
_STEP = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+(?:\[([ xX])\]\s+)?(\S.*)$")


class SessionTodos:
    """The TodoBoard of one turn (tools/agent_ports.py) over the session's live list."""

    def __init__(
        self, todos: list[Todo], record: Callable[[dict[str, Any]], None], events: EventSink
    ) -> None:
        self._todos = todos
        self._record = record
        self._events = events

    def current(self) -> list[Todo]:
        return list(self._todos)

    def replace(self, todos: list[Todo]) -> None:
        self._todos[:] = todos
        wire = [t.to_wire() for t in todos]
        self._record({"type": "todos", "todos": wire})
        self._events.emit("todo", {"todos": wire})


def todos_from_records(records: Iterable[Mapping[str, Any]]) -> list[Todo]:
    """The list of a stored session: its last `todos` record (malformed items are dropped)."""
    latest: list[Any] = []
    for record in records:
        if record.get("type") == "todos" and isinstance(record.get("todos"), list):
            latest = record["todos"]
    out = []
    for item in latest[:MAX_TODOS]:
        if isinstance(item, Mapping) and item.get("status") in STATUSES:
            content, todo_id = item.get("content"), item.get("id")
            if isinstance(content, str) and content and isinstance(todo_id, str) and todo_id:
                out.append(Todo(todo_id, content[:MAX_CONTENT_CHARS], item["status"]))
    return out


def plan_from_records(records: Iterable[Mapping[str, Any]]) -> str | None:
    """The last plan a plan-mode turn handed over (what claw.acceptPlan accepts by default)."""
    plan = None
    for record in records:
        if record.get("type") == "plan" and isinstance(record.get("plan"), str):
            plan = record["plan"] or None
    return plan


def reminder(todos: list[Todo]) -> str | None:
    """The block the model sees at the end of every request while the list is not empty."""
    if not todos:
        return None
    return (
        f"{REMINDER_OPEN}\nYour todo list ([x] done, [>] in progress; update it with "
        f"todo_write as you go):\n{render_todos(todos)}\n{REMINDER_CLOSE}"
    )


def todos_from_plan(plan: str) -> list[Todo]:
    """An accepted plan's steps as the todo list's seed: its top-level list items, in order
    (a plan without a list becomes one item)."""
    steps: list[Todo] = []
    for line in plan.splitlines():
        match = _STEP.match(line.rstrip())
        if match is None:
            continue
        content = " ".join(match.group(2).split())[:MAX_CONTENT_CHARS]
        done = (match.group(1) or " ").lower() == "x"
        steps.append(Todo(str(len(steps) + 1), content, "completed" if done else "pending"))
        if len(steps) == MAX_TODOS:
            break
    if not steps:
        first = next((line.strip() for line in plan.splitlines() if line.strip()), "")
        content = " ".join(first.lstrip("#").split())[:MAX_CONTENT_CHARS]
        steps = [Todo("1", content or "carry out the plan", "pending")]
    return steps


def render_for_user(todos: list[Todo]) -> str:
    if not todos:
        return "No todo list in this session yet (the model keeps one with todo_write)."
    done = sum(1 for t in todos if t.status == "completed")
    return f"Todo list ({done}/{len(todos)} done):\n{render_todos(todos)}"
