"""Operations on sessions, turns and proposals that are not a model turn: undo a turn, accept
or reject a proposal, list / resume / fork / export / delete sessions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from claw_lsp.agent.core import AgentCore
from claw_lsp.edits.journal import text_hash
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.ports import FileChange
from claw_lsp.permissions.paths import PathDenied
from claw_lsp.sessions.export import export_markdown


def _current_text(service: AgentCore, path: Path) -> tuple[str | None, int | None]:
    snapshot = service.editor.snapshot(path)
    if snapshot is not None:
        return snapshot.text, snapshot.version
    if not path.exists():
        return None, None
    try:
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError):
        return None, None


async def undo_turn(
    service: AgentCore, session_id: str | None, turn: int | None, folder: str | None = None
) -> dict[str, Any]:
    if session_id is None:
        state = service.folder(folder)
        session_id = service.store.current(state.root.uri)
        if session_id is None:
            raise ServiceError("no session to undo in this folder")
    state, session = service.find_session(session_id)
    turn = turn or session.journal.last_turn_with_edits()
    journal = session.journal.turns.get(turn) if turn else None
    if turn is None or journal is None or not journal.entries:
        raise ServiceError("nothing to undo: that turn made no edits in this server's lifetime")
    changes: list[FileChange] = []
    conflicts: list[str] = []
    for entry in journal.entries.values():
        text, version = _current_text(service, entry.path)
        if text is None or text_hash(text) != entry.after_hash:
            conflicts.append(entry.path.name)
            continue
        if entry.before is None:
            changes.append(
                FileChange(
                    entry.path, entry.uri, text, "", version, f"claw: undo turn {turn}", delete=True
                )
            )
        else:
            changes.append(
                FileChange(
                    entry.path, entry.uri, text, entry.before, version, f"claw: undo turn {turn}"
                )
            )
    if conflicts:
        raise ServiceError(
            "not undone: these files changed since the agent edited them: "
            + ", ".join(sorted(conflicts))
            + ". Undo them in the editor instead."
        )
    result = await service.editor.apply_many(changes, f"claw: undo turn {turn}")
    if not result.applied:
        raise ServiceError(f"the editor did not apply the undo ({result.message or 'unknown'})")
    session.journal.forget(turn)
    service.store.append(state.root.uri, session.id, [{"type": "undo", "turn": turn}])
    return {"session": session.id, "turn": turn, "undone": True, "files": [c.uri for c in changes]}


async def accept_proposal(service: AgentCore, proposal_id: str) -> dict[str, Any]:
    proposal = service.proposals.get(proposal_id)
    if proposal is None:
        raise ServiceError(f"no proposal {proposal_id!r}")
    if proposal.state != "pending":
        raise ServiceError(f"proposal {proposal_id} is already {proposal.state}")
    change = proposal.change
    text, version = _current_text(service, change.path)
    if text != change.before:
        service.proposals.decide(proposal, "stale")
        return {
            "proposal": proposal_id,
            "applied": False,
            "message": "the file changed since the proposal was made; ask again for a fresh "
            "proposal",
        }
    fresh = replace(change, version=version, needs_confirmation=True)
    result = await service.editor.apply(fresh)
    if not result.applied:
        return {
            "proposal": proposal_id,
            "applied": False,
            "message": result.message or "the editor did not apply it",
        }
    service.proposals.decide(proposal, "accepted")
    try:
        state, session = service.find_session(proposal.session)
        session.journal.for_turn(proposal.turn).record(
            change.path, change.uri, change.before, change.after
        )
        session.edited_paths.add(change.path)
        service.store.append(
            state.root.uri,
            session.id,
            [{"type": "proposal", "proposal": proposal_id, "state": "accepted", "uri": change.uri}],
        )
    except (ServiceError, PathDenied):
        pass
    return {"proposal": proposal_id, "applied": True}


def reject_proposal(service: AgentCore, proposal_id: str) -> dict[str, Any]:
    proposal = service.proposals.get(proposal_id)
    if proposal is None:
        raise ServiceError(f"no proposal {proposal_id!r}")
    if proposal.state == "pending":
        service.proposals.decide(proposal, "rejected")
    return {"proposal": proposal_id, "state": proposal.state}


def list_sessions(service: AgentCore, folder: str | None) -> list[dict[str, Any]]:
    state = service.folder(folder)
    return [
        {
            "id": s.id,
            "title": s.title,
            "created": s.created,
            "updated": s.updated,
            "turns": s.turns,
            **({"forkedFrom": s.forked_from} if s.forked_from else {}),
        }
        for s in service.store.list(state.root.uri)
    ]


def history(service: AgentCore, session_id: str) -> list[dict[str, Any]]:
    _, session = service.find_session(session_id)
    return list(session.messages or [])


def new_session(service: AgentCore, folder: str | None) -> dict[str, Any]:
    state = service.folder(folder)
    return {"session": service.new_session(state).id}


def resume_session(service: AgentCore, session_id: str) -> dict[str, Any]:
    state, session = service.find_session(session_id)
    service.store.set_current(state.root.uri, session.id)
    return {"session": session.id, "turns": session.turns}


def fork_session(service: AgentCore, session_id: str, turn: int | None) -> dict[str, Any]:
    state, _ = service.find_session(session_id)
    new_id = service.store.fork(state.root.uri, session_id, turn)
    return {"session": new_id, "forkedFrom": session_id}


def export_session(service: AgentCore, session_id: str) -> dict[str, Any]:
    state, _ = service.find_session(session_id)
    loaded = service.store.load(state.root.uri, session_id)
    if loaded is None:
        raise ServiceError(f"no session {session_id!r}")
    return {"session": session_id, "markdown": export_markdown(loaded)}


def delete_session(service: AgentCore, session_id: str) -> dict[str, Any]:
    state, _ = service.find_session(session_id)
    if state.running_session == session_id:
        raise ServiceError("that session has a turn running; cancel it first")
    state.sessions.pop(session_id, None)
    return {"session": session_id, "deleted": service.store.delete(state.root.uri, session_id)}
