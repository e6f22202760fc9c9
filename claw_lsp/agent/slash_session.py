"""Slash commands that change the conversation: /clear, /compact, /sessions, /resume, /undo,
/export."""

from __future__ import annotations

import re

from claw_lsp.agent import operations
from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.slash_base import Reply, refuse_while_running, session_about
from claw_lsp.agent.state import FolderState
from claw_lsp.context.engine import TurnContext, compact_turn
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.llm.base import BackendError, ChatModel

_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")


async def clear_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    refuse_while_running(state)
    session = service.new_session(state)
    return f"Started a new session {session.id}.", session.id


async def compact_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    refuse_while_running(state)
    session = session_about(service, state, hint)
    if session is None or not session.messages:
        return "Nothing to compact yet.", session.id if session else None
    settings = service.settings_for(state)
    model: ChatModel | None
    try:
        model = await service.models.get(settings)
    except BackendError:
        model = None  # the local digest still shrinks the history
    async with state.lock:
        ctx = TurnContext(
            settings=settings,
            stats=session.context,
            messages=session.messages,
            root=state.root,
            turn=session.turns,
            record_message=lambda message: None,
            record_compaction=lambda r: service.store.append(state.root.uri, session.id, [r]),
            system_prompt=SYSTEM_PROMPT,
            tools=service.toolbox(state).definitions(settings.tier, settings.approvals),
        )
        compaction = await compact_turn(model, ctx, reason="manual")
    if compaction is None:
        return "Nothing to compact yet: the conversation is all recent messages.", session.id
    by = "the model" if compaction.by_model else "a local digest (the model gave no summary)"
    return (
        f"Compacted {compaction.replaced} earlier messages into a summary by {by}; "
        f"the conversation is now {len(session.messages)} messages. See /context."
    ), session.id


async def sessions_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    rows = operations.list_sessions(service, state.root.uri)
    if not rows:
        return "No sessions yet in this folder.", None
    current = service.store.current(state.root.uri)
    lines = [
        f"{'*' if r['id'] == current else ' '} {r['id']}  {r['turns']:>3} turns  "
        f"{r['updated'][:19]}  {r['title'] or '(untitled)'}"
        for r in rows[:50]
    ]
    more = f"\n({len(rows) - 50} older sessions not shown)" if len(rows) > 50 else ""
    return "\n".join(lines) + more + "\n(* current; /resume ID to switch)", None


async def resume_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    if not args:
        return "Usage: /resume SESSION_ID (see /sessions)", None
    refuse_while_running(state)
    result = operations.resume_session(service, args.split()[0])
    return f"Resumed session {result['session']} ({result['turns']} turns).", result["session"]


async def undo_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    refuse_while_running(state)
    session = session_about(service, state, hint)
    if session is None:
        return "Nothing to undo: no session in this folder yet.", None
    result = await operations.undo_turn(service, session.id, None)
    return f"Undid turn {result['turn']} ({len(result['files'])} files).", result["session"]


async def export_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    session = session_about(service, state, hint)
    if session is None:
        return "No session to export.", None
    return operations.export_session(service, session.id)["markdown"], session.id
