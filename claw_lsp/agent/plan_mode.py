"""Operations on plans and todo lists that every front door offers (claw.todos, /todos;
claw.acceptPlan, /plan): the behaviour lives here, the front doors only translate."""

from __future__ import annotations

from typing import Any

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.slash_base import Reply, session_about
from claw_lsp.agent.state import FolderState
from claw_lsp.agent.todos import render_for_user


def todos_of(core: AgentCore, folder: str | None, session: str | None) -> dict[str, Any]:
    """`{session, todos}` of the session named, else the folder's current one."""
    state = core.folder(folder)
    found = session_about(core, state, session)
    todos = found.todos if found is not None else []
    return {
        "session": found.id if found is not None else None,
        "todos": [t.to_wire() for t in todos],
    }


async def todos_command(core: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    found = session_about(core, state, hint)
    if found is None:
        return render_for_user([]), None
    return render_for_user(found.todos), found.id
