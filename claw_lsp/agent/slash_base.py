"""What every slash command handler shares: its signature, the session it is about, and the
rule that commands changing the conversation wait for a running turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.state import FolderState, SessionState
from claw_lsp.foundation.errors import ServiceError

Reply = tuple[str, str | None]  # (text, session id)
Handler = Callable[[AgentCore, FolderState, str, str | None], Awaitable[Reply]]


def session_about(core: AgentCore, state: FolderState, hint: str | None) -> SessionState | None:
    """The session a command is about: the one named in the ask, else the folder's current."""
    return core.index.about(state, hint)


def refuse_while_running(state: FolderState) -> None:
    if state.running is not None or state.lock.locked():
        raise ServiceError("a turn is running in this folder; wait for it or cancel it first")
