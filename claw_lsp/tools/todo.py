"""`todo_write`: the model replaces its todo list for the task (the seed's todo_write; Claude
Code's TodoWrite). The list lives in the session (agent/todos.py keeps, stores and shows it);
this module is the tool and the one validator every list goes through."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from claw_lsp.tools.agent_ports import Todo
from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool

MAX_TODOS = 50
MAX_CONTENT_CHARS = 300
STATUS_MARK = {"completed": "[x]", "in_progress": "[>]", "pending": "[ ]"}


class TodoItem(ToolArgs):
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    status: Literal["pending", "in_progress", "completed"]
    id: str | None = Field(default=None, max_length=40)


class TodoArgs(ToolArgs):
    todos: list[TodoItem] = Field(max_length=MAX_TODOS)

    @model_validator(mode="after")
    def _one_in_progress(self) -> TodoArgs:
        if sum(1 for t in self.todos if t.status == "in_progress") > 1:
            raise ValueError("at most one todo may be in_progress")
        ids = [t.id for t in self.todos if t.id]
        if len(ids) != len(set(ids)):
            raise ValueError("todo ids must be unique")
        return self


def to_todos(args: TodoArgs) -> list[Todo]:
    """Every item with an id: the model's, else the next free number."""
    taken = {t.id for t in args.todos if t.id}
    out: list[Todo] = []
    counter = 0
    for item in args.todos:
        todo_id = item.id
        while not todo_id:
            counter += 1
            todo_id = str(counter) if str(counter) not in taken else None
        out.append(Todo(todo_id, " ".join(item.content.split()), item.status))
    return out


def render_todos(todos: list[Todo]) -> str:
    return "\n".join(f"{STATUS_MARK[t.status]} {t.id}. {t.content}" for t in todos)


def _plan(args: TodoArgs, ctx: ToolContext) -> Access:
    return Access("todo", subject="the todo list")


async def _run(args: TodoArgs, ctx: ToolContext) -> ToolOutput:
    if ctx.todos is None:
        raise ToolError("todo_write is not available here")
    todos = to_todos(args)
    ctx.todos.replace(todos)
    done = sum(1 for t in todos if t.status == "completed")
    summary = f"todo list: {done}/{len(todos)} done"
    return ToolOutput(f"Todo list updated ({done}/{len(todos)} done).", summary)


TODO_WRITE = define_tool(
    "todo_write",
    "Replace your todo list (multi-step work): the user sees it. One in_progress at a time; "
    "mark items completed as you finish them.",
    TodoArgs,
    "todo",
    _plan,
    _run,
    schema={
        "type": "object",
        "properties": {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["pending", "in_progress", "completed"],
                        },
                        "id": {"type": "string"},
                    },
                    "required": ["content", "status"],
                },
            }
        },
        "required": ["todos"],
    },
)
