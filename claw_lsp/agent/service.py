"""The agent service: one index from workspace folder to its state, and the operations every
front end (LSP server, CLI, tests) calls. Pure asyncio; no pygls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from claw_lsp.agent.errors import ServiceError
from claw_lsp.agent.history import messages_from_records, repair_history
from claw_lsp.agent.loop import TurnInputs, TurnOutcome, run_turn
from claw_lsp.agent.ports import Approver, Editor, EventSink
from claw_lsp.config import Settings
from claw_lsp.context.engine import ContextManagedModel, TurnContext
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.context.tokens import ContextStats
from claw_lsp.context.turn_context import active_dir_for, build_user_message
from claw_lsp.edits.applier import ChangeApplier
from claw_lsp.edits.journal import SessionJournal
from claw_lsp.edits.proposals import ProposalStore
from claw_lsp.llm.base import BackendError, Usage
from claw_lsp.llm.provider import ModelProvider
from claw_lsp.permissions.paths import PathDenied, Root, Workspace
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.permissions.tiers import Tier
from claw_lsp.protocol_params import AskParams
from claw_lsp.secrets import neutralize_markdown, redact
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.base import ToolContext
from claw_lsp.tools.orchestrator import Orchestrator
from claw_lsp.tools.registry import ToolRegistry

log = logging.getLogger(__name__)
MAX_QUEUED_TURNS = 4


@dataclass
class SessionState:
    id: str
    messages: list[dict[str, Any]] | None = None  # loaded lazily
    turns: int = 0
    grants: SessionGrants = field(default_factory=SessionGrants)
    journal: SessionJournal = field(default_factory=SessionJournal)
    read_hashes: dict[Path, str] = field(default_factory=dict)
    edited_paths: set[Path] = field(default_factory=set)
    usage: Usage = field(default_factory=Usage)
    rules_sent: bool = False
    context: ContextStats = field(default_factory=ContextStats)  # token accounting


@dataclass
class FolderState:
    root: Root
    tier: Tier | None = None  # set by the user (claw.setTier); expires with the server
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0
    running: asyncio.Task[Any] | None = None
    running_session: str | None = None
    sessions: dict[str, SessionState] = field(default_factory=dict)


EventsFactory = Callable[[str, int], EventSink]


class AgentService:
    def __init__(
        self,
        *,
        settings: Callable[[], Settings],
        workspace: Workspace,
        editor: Editor,
        approver: Approver,
        events: EventsFactory,
        store: SessionStore,
        models: ModelProvider,
        registry: ToolRegistry | None = None,
    ) -> None:
        self._settings = settings
        self.workspace = workspace
        self.editor = editor
        self.approver = approver
        self.events = events
        self.store = store
        self.models = models
        self.registry = registry or ToolRegistry()
        self.proposals = ProposalStore()
        self.folders: dict[str, FolderState] = {}
        self.on_status_change: Callable[[FolderState], None] = lambda state: None
        self.model_override: str | None = None

    # -- folders and settings ---------------------------------------------------------------
    def folder(self, folder_uri: str | None = None, uri: str | None = None) -> FolderState:
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
        state = self.folders.get(root.uri)
        if state is None or state.root.real_path != root.real_path:
            state = self.folders[root.uri] = FolderState(root)
        return state

    def settings_for(self, state: FolderState) -> Settings:
        base = self._settings()
        if self.model_override:
            base = replace(base, model=self.model_override)
        return replace(base, tier=state.tier) if state.tier is not None else base

    def find_session(self, session_id: str) -> tuple[FolderState, SessionState]:
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
                return state, self._session(state, session_id)
        raise ServiceError(f"no session {session_id!r} in the open workspace folders")

    def _session(self, state: FolderState, session_id: str) -> SessionState:
        session = state.sessions.get(session_id)
        if session is None:
            session = state.sessions[session_id] = SessionState(session_id)
        if session.messages is None:
            loaded = self.store.load(state.root.uri, session_id)
            records = loaded.records if loaded else []
            session.messages = repair_history(messages_from_records(records))
            session.turns = sum(1 for r in records if r.get("type") == "turn")
            session.rules_sent = any(r.get("type") == "message" for r in records)
        return session

    def current_session(self, state: FolderState, requested: str | None) -> SessionState:
        if requested == "new":
            return self.new_session(state)
        if requested:
            session_id = requested
            try:
                if (
                    self.store.load(state.root.uri, session_id) is None
                    and session_id not in state.sessions
                ):
                    raise ServiceError(f"no session {session_id!r} for this folder")
            except ValueError:
                raise ServiceError(f"invalid session id {requested!r}") from None
            self.store.set_current(state.root.uri, session_id)
            return self._session(state, session_id)
        current = self.store.current(state.root.uri)
        if current:
            return self._session(state, current)
        return self.new_session(state)

    def new_session(self, state: FolderState) -> SessionState:
        session_id = self.store.create(state.root.uri, canonical_path=state.root.real_path)
        session = state.sessions[session_id] = SessionState(session_id, messages=[])
        return session

    # -- the turn ----------------------------------------------------------------------------
    async def ask(
        self,
        params: AskParams,
        *,
        editor_context: str = "",
        on_session: Callable[[str, int], None] = lambda s, t: None,
    ) -> dict[str, Any]:
        state = self.folder(params.folder, params.uri)
        if state.waiting >= MAX_QUEUED_TURNS:
            raise ServiceError("too many prompts are queued for this folder; wait or cancel")
        state.waiting += 1
        try:
            await state.lock.acquire()  # one turn per folder; the next waits its turn
        finally:
            state.waiting -= 1
        try:
            session = self.current_session(state, params.session)
            session.turns += 1
            turn = session.turns
            on_session(session.id, turn)
            state.running = asyncio.current_task()
            state.running_session = session.id
            self.on_status_change(state)
            return await self._run(state, session, turn, params, editor_context)
        finally:
            state.running = None
            state.running_session = None
            state.lock.release()
            self.on_status_change(state)

    async def _run(
        self,
        state: FolderState,
        session: SessionState,
        turn: int,
        params: AskParams,
        editor_context: str,
    ) -> dict[str, Any]:
        settings = self.settings_for(state)
        events = self.events(session.id, turn)
        assert session.messages is not None
        journal = session.journal.for_turn(turn)
        applier = ChangeApplier(
            self.editor,
            journal,
            self.proposals,
            session.id,
            params.edit_mode or settings.edit_mode,
            events,
            on_applied=lambda change: session.edited_paths.add(change.path),
        )
        ctx = ToolContext(
            workspace=self.workspace,
            root=state.root,
            editor=self.editor,
            applier=applier,
            settings=lambda: self.settings_for(state),
            events=events,
            read_hashes=session.read_hashes,
        )
        orchestrator = Orchestrator(self.registry, ctx, self.approver, session.grants)
        decisions = self.proposals.take_report(session.id)
        user_message = build_user_message(
            params.prompt,
            editor_context=editor_context,
            root=state.root,
            proposal_report=decisions,
            # Instruction files: those not yet in this session's history (issue 4).
            history=session.messages,
            active_dir=active_dir_for(self.workspace, params.uri),
            worked_paths=[*session.read_hashes, *session.edited_paths],
        )
        session.rules_sent = True
        self._title(state, session, params.prompt)
        records: list[dict[str, Any]] = []

        def record(message: dict[str, Any]) -> None:
            records.append({"type": "message", "turn": turn, "message": message})
            self.store.append(state.root.uri, session.id, [records[-1]])

        session.messages.append(user_message)
        record(user_message)
        outcome = TurnOutcome("error")
        error: str | None = None
        try:
            tier = settings.tier
            # The context engine (issue 4): nested rules, token accounting, compaction.
            model = ContextManagedModel(
                await self.models.get(settings),
                TurnContext(
                    settings=settings,
                    stats=session.context,
                    messages=session.messages,
                    root=state.root,
                    turn=turn,
                    record_message=record,
                    record_compaction=lambda r: self.store.append(state.root.uri, session.id, [r]),
                    worked_paths=lambda: [*session.read_hashes, *session.edited_paths],
                    system_prompt=SYSTEM_PROMPT,
                    tools=self.registry.schemas(tier, settings.approvals),
                ),
            )
            inputs = TurnInputs(
                model=model,
                system_prompt=SYSTEM_PROMPT,
                tools=self.registry.schemas(tier, settings.approvals),
                tool_names=self.registry.advertised_names(tier, settings.approvals),
                messages=session.messages,
                orchestrator=orchestrator,
                events=events,
                record=record,
                max_steps=settings.max_turns,
                deadline_s=settings.turn_deadline,
                text_tool_calls=settings.text_tool_calls,
                compact=None,  # the context engine compacts and retries once itself
            )
            outcome = await run_turn(inputs)
            error = outcome.error
        except asyncio.CancelledError:
            outcome = TurnOutcome("cancelled")
            repaired = repair_history(session.messages, note="cancelled by the user")
            for message in repaired[len(session.messages) :]:
                record(message)
            session.messages[:] = repaired
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the turn is over; answer with what was recorded
            return self._finish(
                state,
                session,
                turn,
                outcome,
                journal_records=journal.to_record(),
                events=events,
                error=None,
            )
        except BackendError as exc:
            error = str(exc)
            outcome = TurnOutcome("error", error=error)
        session.usage.add(outcome.usage)
        return self._finish(
            state,
            session,
            turn,
            outcome,
            journal_records=journal.to_record(),
            events=events,
            error=error,
        )

    def _finish(
        self,
        state: FolderState,
        session: SessionState,
        turn: int,
        outcome: TurnOutcome,
        *,
        journal_records: list[Any],
        events: EventSink,
        error: str | None,
    ) -> dict[str, Any]:
        settings = self.settings_for(state)
        edits = [
            {"uri": p.uri, "applied": False, "proposal": p.id}
            for p in self.proposals.pending()
            if p.session == session.id and p.turn == turn
        ]
        edits = [{"uri": e["uri"], "applied": True} for e in journal_records] + edits
        self.store.append(
            state.root.uri,
            session.id,
            [
                {
                    "type": "turn",
                    "turn": turn,
                    "stopReason": outcome.stop_reason,
                    "usage": outcome.usage.to_wire(),
                    "edits": journal_records,
                    "tier": settings.tier.value,
                    "error": redact(error) if error else None,
                }
            ],
        )
        if error:
            events.emit("error", {"message": redact(error)})
        events.emit("done", {"stopReason": outcome.stop_reason})
        text = outcome.text
        if error and outcome.stop_reason == "error":
            text = (text + "\n\n" if text else "") + f"Error: {redact(error)}"
        elif error:
            text = (text + "\n\n" if text else "") + f"[{redact(error)}]"
        return {
            "session": session.id,
            "turn": turn,
            "text": neutralize_markdown(redact(text)),
            "stopReason": outcome.stop_reason,
            "edits": edits,
            "toolCalls": outcome.tool_calls,
            "usage": outcome.usage.to_wire(),
        }

    def _title(self, state: FolderState, session: SessionState, prompt: str) -> None:
        if session.turns == 1:
            self.store.set_title(state.root.uri, session.id, prompt)

    # -- other operations ------------------------------------------------------------------
    def cancel(self, session_id: str | None = None, folder: str | None = None) -> bool:
        for state in self.folders.values():
            if (
                state.running
                and (session_id is None or state.running_session == session_id)
                and (folder is None or state.root.uri == folder)
            ):
                state.running.cancel()
                return True
        return False

    def set_tier(self, folder: str | None, tier: Tier) -> FolderState:
        state = self.folder(folder)
        before = self.settings_for(state).tier
        state.tier = tier
        if tier.rank < before.rank:
            for session in state.sessions.values():
                session.grants.keys.clear()
        self.on_status_change(state)
        return state

    def status(self, folder: str | None = None) -> dict[str, Any]:
        state = self.folder(folder)
        settings = self.settings_for(state)
        sandbox = probe_sandbox()
        return {
            "folder": state.root.uri,
            "tier": settings.tier.value,
            "approvals": settings.approvals,
            "editMode": settings.edit_mode,
            "session": self.store.current(state.root.uri),
            "busy": state.running is not None,
            "sandbox": {"available": sandbox.available, "reason": sandbox.reason},
            "backend": self.models.describe(settings),
        }
