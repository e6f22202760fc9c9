"""Live session state: one index from workspace folder to its state, and from there to the
folder's sessions, each loaded from its file once and then kept in memory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claw_lsp.agent.history import messages_from_records, repair_history
from claw_lsp.agent.todos import plan_from_records, todos_from_records
from claw_lsp.context.tokens import ContextStats
from claw_lsp.edits.journal import SessionJournal
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.messages import Usage
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import PathDenied, Root, Workspace
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.agent_ports import Todo


@dataclass
class SessionState:
    id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    grants: SessionGrants = field(default_factory=SessionGrants)
    journal: SessionJournal = field(default_factory=SessionJournal)
    read_hashes: dict[Path, str] = field(default_factory=dict)
    edited_paths: set[Path] = field(default_factory=set)
    usage: Usage = field(default_factory=Usage)
    context: ContextStats = field(default_factory=ContextStats)  # token accounting
    loaded_tools: list[str] = field(default_factory=list)  # deferred tools the model loaded
    todos: list[Todo] = field(default_factory=list)  # issue 18: the todo list (agent/todos.py)
    plan: str | None = None  # issue 18: the last plan a plan-mode turn handed over

    def worked_paths(self) -> list[Path]:
        """Files this session read or edited: their folders' instruction files apply."""
        return [*self.read_hashes, *self.edited_paths]


@dataclass
class FolderState:
    root: Root
    tier: Tier | None = None  # set by the user (claw.setTier); expires with the server
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0
    running: asyncio.Task[Any] | None = None
    running_session: str | None = None
    sessions: dict[str, SessionState] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return self.running is not None or self.lock.locked()


class SessionIndex:
    """Folder URI -> FolderState -> SessionState; sessions load from the store once."""

    def __init__(self, workspace: Workspace, store: SessionStore) -> None:
        self.workspace = workspace
        self.store = store
        self.folders: dict[str, FolderState] = {}

    def folder(self, folder_uri: str | None = None, uri: str | None = None) -> FolderState:
        """The folder named, else the one holding `uri`, else the first one."""
        root = None
        if folder_uri:
            root = self.workspace.root_for_uri(folder_uri)
            if root is None:
                raise ServiceError(f"{folder_uri} is not an open workspace folder")
        elif uri:
            try:
                root = self.workspace.resolve_uri(uri).root
            except PathDenied:
                root = None
        if root is None:
            if not self.workspace.roots:
                raise ServiceError("no workspace folder is open")
            root = self.workspace.roots[0]
        return self.state_for(root)

    def state_for(self, root: Root) -> FolderState:
        state = self.folders.get(root.uri)
        if state is None or state.root.real_path != root.real_path:
            state = self.folders[root.uri] = FolderState(root)
        return state

    def find(self, session_id: str) -> tuple[FolderState, SessionState]:
        for state in self.folders.values():
            if session_id in state.sessions:
                return state, state.sessions[session_id]
        for root in self.workspace.roots:
            try:
                loaded = self.store.load(root.uri, session_id)
            except ValueError:
                raise ServiceError(f"invalid session id {session_id!r}") from None
            if loaded is not None:
                state = self.folder(root.uri)
                return state, self.load(state, session_id)
        raise ServiceError(f"no session {session_id!r} in the open workspace folders")

    def load(self, state: FolderState, session_id: str) -> SessionState:
        """The session's live state, read from its file the first time only."""
        session = state.sessions.get(session_id)
        if session is not None:
            return session
        loaded = self.store.load(state.root.uri, session_id)
        records = loaded.records if loaded else []
        session = state.sessions[session_id] = SessionState(
            session_id,
            messages=repair_history(messages_from_records(records)),
            turns=sum(1 for r in records if r.get("type") == "turn"),
            todos=todos_from_records(records),
            plan=plan_from_records(records),
        )
        return session

    def current(self, state: FolderState, requested: str | None) -> SessionState:
        """The session a turn runs in: "new", a named one, or the folder's current one."""
        if requested == "new":
            return self.new(state)
        if requested:
            try:
                known = requested in state.sessions or (
                    self.store.load(state.root.uri, requested) is not None
                )
            except ValueError:
                raise ServiceError(f"invalid session id {requested!r}") from None
            if not known:
                raise ServiceError(f"no session {requested!r} for this folder")
            self.store.set_current(state.root.uri, requested)
            return self.load(state, requested)
        current = self.store.current(state.root.uri)
        return self.load(state, current) if current else self.new(state)

    def about(self, state: FolderState, hint: str | None) -> SessionState | None:
        """The session a command is about: the one named, else the folder's current one."""
        session_id = hint if hint and hint != "new" else self.store.current(state.root.uri)
        if not session_id:
            return None
        return self.find(session_id)[1]

    def new(self, state: FolderState) -> SessionState:
        session_id = self.store.create(state.root.uri, canonical_path=state.root.real_path)
        session = state.sessions[session_id] = SessionState(session_id)
        return session
