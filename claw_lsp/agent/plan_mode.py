"""Operations on plans and todo lists that every front door offers (claw.todos, /todos;
claw.acceptPlan, /plan): the behaviour lives here, the front doors only translate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.slash_base import Reply, session_about
from claw_lsp.agent.state import FolderState
from claw_lsp.agent.todos import render_for_user
from claw_lsp.agent.turn import Prompt
from claw_lsp.foundation.errors import ServiceError


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


ACCEPTED_PLAN = (
    "The user accepted this plan. Carry it out now, step by step, and keep the todo list "
    "up to date as you go:\n\n"
)
MAX_PLAN_CHARS = 100_000


def plan_slash(prompt: Prompt, slash: tuple[str, str] | None) -> Prompt | None:
    """`/plan <prompt>`: the prompt as a plan-mode turn (None: not /plan, or no prompt)."""
    if slash is None or slash[0] != "plan" or not slash[1]:
        return None
    return replace(prompt, text=slash[1], mode="plan")


async def plan_usage(core: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    return (
        "Usage: /plan PROMPT: the model investigates with read-only tools and hands over a "
        "plan; accept it (claw.acceptPlan) to carry it out.",
        None,
    )


def accept_plan_prompt(
    core: AgentCore, folder: str | None, session: str | None, plan: str | None
) -> Prompt:
    """The turn that carries out a plan: the session's last handed-over plan, or the user's
    edited text. It runs at the folder's tier as it is now: accepting never raises it."""
    state = core.folder(folder)
    if session == "new":
        raise ServiceError("a new session has no plan to accept")
    found = session_about(core, state, session)
    if found is None:
        raise ServiceError("no session in this folder has a plan yet")
    text = (plan if plan is not None else found.plan or "").strip()
    if not text:
        raise ServiceError(f"session {found.id} has no plan to accept; ask with /plan first")
    if len(text) > MAX_PLAN_CHARS:
        raise ServiceError(f"the plan is {len(text)} characters; the limit is {MAX_PLAN_CHARS}")
    return Prompt(text=ACCEPTED_PLAN + text, folder=state.root.uri, session=found.id, plan=text)


def pending_plan(core: AgentCore, uri: str) -> tuple[str, str, str] | None:
    """(folder, session, first line) of a handed-over plan not yet accepted in the folder of
    `uri`, from the sessions in memory only (code actions must answer without file I/O)."""
    try:
        state = core.folder(uri=uri)
    except ServiceError:
        return None
    for session in reversed(state.sessions.values()):
        if session.plan:
            first = next((line for line in session.plan.splitlines() if line.strip()), "")
            return state.root.uri, session.id, first.strip().lstrip("#").strip()[:80]
    return None
