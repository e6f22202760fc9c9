"""The ACP Agent: each protocol method translated onto the one AgentService of this process.

ACP sessions are claw sessions (same ids, the same per-folder session files), in the folder
of the session's cwd; modes are claw's tiers plus plan mode; a prompt is `AgentService.submit`
(a plan-mode turn in plan mode), `/accept-plan` the agent's acceptPlan operation."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, helpers
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    ClientCapabilities,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
)

from claw_lsp import __version__
from claw_lsp.acp import translate
from claw_lsp.acp.options import PLAN_MODE, SessionOptions
from claw_lsp.acp.ports import AcpEvents, AcpSession, Peer, current
from claw_lsp.acp.prompt_blocks import prompt_from_blocks
from claw_lsp.agent.plan_mode import accept_plan_prompt
from claw_lsp.agent.service import AgentService, Prompt
from claw_lsp.agent.slash import command_entries
from claw_lsp.context.tokens import resolve_window
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.secrets import redact
from claw_lsp.permissions.paths import make_root

log = logging.getLogger(__name__)
ACCEPT_PLAN = "accept-plan"  # the ACP door's command for claw.acceptPlan
ACCEPT_PLAN_ENTRY = {
    "name": ACCEPT_PLAN,
    "description": "carry out the plan the agent handed over (at the current tier; leaves "
    "plan mode)",
    "argumentHint": "[edited plan]",
}


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """A request that fails answers with a JSON-RPC error that says what went wrong in our own
    words: never a traceback, never a secret (the SDK would send `str(exc)` otherwise)."""

    async def wrapper(self: ClawAcpAgent, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except RequestError:
            raise
        except ServiceError as exc:
            raise RequestError.invalid_params({"message": redact(str(exc))}) from None
        except Exception:
            log.exception("ACP %s failed", method.__name__)
            raise RequestError.internal_error(
                {"message": f"{method.__name__} failed inside claw (see its log)"}
            ) from None

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class ClawAcpAgent:
    def __init__(self, service: AgentService, peer: Peer, options: SessionOptions) -> None:
        self.service = service
        self.peer = peer
        self.options = options

    def on_connect(self, conn: Client) -> None:
        self.peer.outbox.client = conn

    # -- lifecycle ---------------------------------------------------------------------------
    @_guarded
    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        # Version negotiation: the client's version if we speak it, else ours (the latest).
        version = (
            protocol_version if 1 <= protocol_version <= PROTOCOL_VERSION else PROTOCOL_VERSION
        )
        if client_capabilities is not None:
            self.peer.capabilities = client_capabilities
        return InitializeResponse(
            protocol_version=version,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                # The OpenAI-compatible backends claw drives take text: no image or audio.
                prompt_capabilities=PromptCapabilities(
                    embedded_context=True, image=False, audio=False
                ),
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            agent_info=Implementation(name="claw-lsp", title="claw", version=__version__),
            auth_methods=[],
        )

    @_guarded
    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse | None:
        # The backend's key comes from the user's own configuration, never over ACP.
        return AuthenticateResponse()

    # -- sessions ----------------------------------------------------------------------------
    @_guarded
    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        root = self._open_folder(cwd, mcp_servers)
        state = self.service.folder(root.uri)
        session = self.service.new_session(state)
        self.peer.sessions[session.id] = AcpSession(session.id, root)
        return NewSessionResponse(
            session_id=session.id,
            modes=self.options.modes(self.service.settings_for(state).tier),
            config_options=await self.options.config(self.service, state),
        )

    @_guarded
    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[Any] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse | None:
        root = self._open_folder(cwd, mcp_servers)
        state = self.service.folder(root.uri)
        try:
            known = self.service.store.load(root.uri, session_id) is not None
        except ValueError:
            known = False
        if not known:
            raise RequestError.resource_not_found(f"session {session_id}")
        session = self.service.index.load(state, session_id)
        self.service.store.set_current(root.uri, session_id)
        acp_session = self.peer.sessions[session_id] = AcpSession(session_id, root)
        for update in translate.replay(session.messages, root.real_path):
            self.peer.outbox.send(acp_session.id, update)
        await self.peer.outbox.flush()  # the history is on screen before the answer
        return LoadSessionResponse(
            modes=self.options.modes(self.service.settings_for(state).tier),
            config_options=await self.options.config(self.service, state),
        )

    @_guarded
    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        # Listing reads the store only: it opens no folder (that is session/new's and load's).
        folders = (
            [(_folder_uri(Path(cwd)), Path(cwd))]
            if cwd
            else [(root.uri, root.real_path) for root in self.service.workspace.roots]
        )
        infos = []
        for uri, path in folders:
            for row in self.service.store.list(uri):
                infos.append(
                    SessionInfo(
                        session_id=row.id,
                        cwd=str(path),
                        title=translate.shown(row.title, 200) if row.title else None,
                        updated_at=row.updated or None,
                    )
                )
        return ListSessionsResponse(sessions=infos)

    @_guarded
    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse | None:
        self._switch_mode(self._session(session_id), mode_id)
        return SetSessionModeResponse()

    @_guarded
    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse | None:
        session = self._session(session_id)
        state = self.service.folder(session.root.uri)
        if config_id == "mode" and isinstance(value, str):
            self._switch_mode(session, value)
        elif config_id == "model" and isinstance(value, str):
            self.options.set_model(self.service, value)
        else:
            raise RequestError.invalid_params({"message": f"no option {config_id!r}"})
        return SetSessionConfigOptionResponse(
            config_options=await self.options.config(self.service, state, session.plan_mode)
        )

    # -- prompts -----------------------------------------------------------------------------
    @_guarded
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        text, context, buffers = prompt_from_blocks(prompt, self.service.workspace, session.root)
        if not text.strip() and not context:
            raise RequestError.invalid_params({"message": "the prompt is empty"})
        session.buffers = buffers  # this prompt's embedded files; earlier ones may be stale
        if not session.commands_sent:
            # After session/new has been answered (the client knows the id by now).
            session.commands_sent = True
            state = self.service.folder(session.root.uri)
            entries = [*command_entries(self.service, state), ACCEPT_PLAN_ENTRY]
            self.peer.outbox.send(session.id, translate.commands_update(entries))
        token = current.set(session)
        try:
            result = await self.service.submit(self._prompt_for(session, text, context))
        finally:
            current.reset(token)
        self._after_turn(session, result)
        await self.peer.outbox.flush()
        claw_reason = str(result.get("stopReason"))
        if claw_reason == "error":
            message = str(result.get("text") or "the turn failed").splitlines()[-1]
            raise RequestError.internal_error({"message": translate.shown(message, 500)})
        return PromptResponse(stop_reason=translate.stop_reason(claw_reason))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        # Notifications have no answer: a session that is not running has nothing to stop.
        self.service.cancel(session_id=session_id)

    def events_for(self, session_id: str, turn: int) -> AcpEvents:
        """The EventsFactory the service is built with."""
        session = self.peer.sessions.get(session_id)
        if session is None:  # a turn started by no ACP session (cannot happen over ACP)
            state, _ = self.service.find_session(session_id)
            session = AcpSession(session_id, state.root)
        return AcpEvents(self.peer, session, lambda call_id: self._tool_output(session_id, call_id))

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    # -- helpers -----------------------------------------------------------------------------
    def _switch_mode(self, session: AcpSession, mode_id: str) -> None:
        """`plan` makes the session's prompts plan-mode turns and leaves the tier as it is; a
        tier mode sets the folder's tier (the service's rule: not raised while a turn runs)
        and leaves plan mode."""
        if mode_id == PLAN_MODE:
            session.plan_mode = True
            return
        self.service.set_tier(session.root.uri, self.options.tier_for_mode(mode_id))
        session.plan_mode = False

    def _prompt_for(self, session: AcpSession, text: str, context: Any) -> Prompt:
        """`/accept-plan [edited plan]` is claw.acceptPlan (the session's last plan, or the
        text after the command): it leaves plan mode, and the turn runs at the folder's tier
        as it is. Anything else is a prompt, a plan-mode turn while the session is in plan
        mode (the same `mode: "plan"` claw.ask uses)."""
        command, _, rest = text.strip().partition(" ")
        if command == f"/{ACCEPT_PLAN}":
            edited = rest.strip() or None
            prompt = accept_plan_prompt(self.service, session.root.uri, session.id, edited)
            if session.plan_mode:
                session.plan_mode = False
                state = self.service.folder(session.root.uri)
                tier = self.service.settings_for(state).tier
                self.peer.outbox.send(session.id, helpers.update_current_mode(tier.value))
            return replace(prompt, editor_context=context)
        return Prompt(
            text=text,
            folder=session.root.uri,
            session=session.id,
            editor_context=context,
            mode="plan" if session.plan_mode else "ask",
        )

    def _open_folder(self, cwd: str, mcp_servers: list[Any] | None) -> Any:
        path = Path(cwd)
        if not path.is_absolute() or not path.is_dir():
            raise RequestError.invalid_params(
                {"message": "cwd must be an existing absolute folder"}
            )
        real = Path(os.path.realpath(path))
        root = self.service.workspace.root_for_real(real)
        if root is None:
            root = make_root(real.as_uri(), real.name)
            self.service.workspace.add(root)
        if mcp_servers:
            self.options.add_mcp_servers(mcp_servers, real)
        return root

    def _session(self, session_id: str) -> AcpSession:
        session = self.peer.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params(
                {"message": f"unknown session {session_id!r}: use session/new or session/load"}
            )
        return session

    def _tool_output(self, session_id: str, call_id: str) -> str | None:
        try:
            _, session = self.service.find_session(session_id)
        except ServiceError:
            return None
        for message in reversed(session.messages):
            if message.get("role") == "tool" and message.get("tool_call_id") == call_id:
                return str(message.get("content") or "")
        return None

    def _after_turn(self, session: AcpSession, result: dict[str, Any]) -> None:
        if result.get("stopReason") == "local":  # a slash command's answer
            events = self.events_for(session.id, 0)
            events.emit("text", {"delta": str(result.get("text") or "")})
            events.close()
        try:
            state, claw_session = self.service.find_session(session.id)
        except ServiceError:
            return
        settings = self.service.settings_for(state)
        window = resolve_window(settings.context_window, claw_session.context).tokens
        stats = claw_session.context
        used = stats.last_reported_prompt_tokens or stats.last_request_estimate
        self.peer.outbox.send(session.id, translate.usage_update(used, window))


def _folder_uri(path: Path) -> str:
    """The folder URI a session/new with this cwd uses (its canonical path's)."""
    if not path.is_absolute():
        raise RequestError.invalid_params({"message": "cwd must be an absolute folder"})
    return Path(os.path.realpath(path)).as_uri()
