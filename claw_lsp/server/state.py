"""The server state: the LanguageServer plus what the feature handlers translate into. It knows
no feature module; server/app.py composes them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from claw_lsp import __version__
from claw_lsp.config import Settings, resolve_settings
from claw_lsp.permissions.paths import Workspace
from claw_lsp.server.approver import LspApprover
from claw_lsp.server.editor import LspEditor
from claw_lsp.server.events import LspEvents
from claw_lsp.server.protocol import ClawProtocol, expected_client_error

if TYPE_CHECKING:
    # The agent, its tools and the model clients are most of our import time: they load
    # after the initialize response (issue 9, cold start), see `service`.
    from claw_lsp.agent.service import AgentService
    from claw_lsp.llm.provider import ModelProvider

log = logging.getLogger(__name__)


class ClawServer(LanguageServer):
    """The LanguageServer plus the state handlers translate into: settings layers, the live
    workspace folders, and the agent service."""

    protocol: ClawProtocol

    def __init__(
        self, *, user_file: dict[str, Any], env: dict[str, Any], debug: bool = False
    ) -> None:
        super().__init__(
            "claw-lsp",
            __version__,
            protocol_cls=ClawProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.protocol.debug = debug
        self.layers: dict[str, dict[str, Any]] = {
            "user_file": user_file,
            "env": env,
            "init_options": {},
            "workspace_config": {},
        }
        # Resolved at first use, after the initialize response: the options schema (pydantic)
        # is not on the initialize path (issue 9, cold start; issue 12).
        self._settings = Settings()
        self._config_error: str | None = None
        self._settings_stale = True
        self._resolved_once = False
        self._warned: set[str] = set()
        self.client_info: dict[str, Any] = {}
        self.claw_workspace = Workspace()
        self.editor = LspEditor(self)
        self.approver = LspApprover(self)
        self._models: ModelProvider | None = None
        self._service: AgentService | None = None
        # Set by initialize: from then on the service exists, built at first use at the latest.
        self.service_wanted = False
        self.on_service_built: Callable[[AgentService], None] = lambda service: None
        # Set by the code-actions feature: pending proposals changed, refresh their hints.
        self.on_proposals_changed: Callable[[], None] = lambda: None
        self.turn_events: dict[str, LspEvents] = {}
        # issue 14: a client without the claw plugins (eglot, Helix, stock vim.lsp): its code
        # actions run turns in the background; and where approvals-as-diagnostics go.
        self.plain_client = True
        self.last_ask_at: tuple[str, int] | None = None  # (uri, line) of the last claw.ask
        # Set by server/language.py (issue 16): the language hub the service is built with,
        # document events for claw-run language servers, their diagnostics (for "Fix" quick
        # fixes and the editor context), and the shutdown of those servers.
        self.language_hub_factory: Callable[[], Any] = lambda: None
        self.on_document: Callable[[str, str], None] = lambda kind, uri: None
        self.known_diagnostics: Callable[[str], list[types.Diagnostic]] = lambda uri: []
        self.on_shutdown: Callable[[], None] = lambda: None

    @property
    def models(self) -> ModelProvider:
        if self._models is None:
            from claw_lsp.llm.provider import ModelProvider

            self._models = ModelProvider()
        return self._models

    @property
    def service(self) -> AgentService | None:
        """None before initialize; afterwards built on first use if nothing built it yet."""
        if self._service is None and self.service_wanted:
            self.build_service()
        return self._service

    @service.setter
    def service(self, service: AgentService | None) -> None:
        self._service = service

    def resolve(self) -> None:
        """The layers changed: Settings are recomputed at their next use."""
        self._settings_stale = True

    @property
    def settings(self) -> Settings:
        if self._settings_stale:
            self._resolve_now()
        return self._settings

    @property
    def config_error(self) -> str | None:
        if self._settings_stale:
            self._resolve_now()
        return self._config_error

    def _resolve_now(self) -> None:
        """Recompute Settings from the layers; a bad value keeps the previous settings."""
        self._settings_stale = False
        try:
            self._settings = resolve_settings(
                user_file=self.layers["user_file"],
                env=self.layers["env"],
                init_options=self.layers["init_options"],
                workspace_config=self.layers["workspace_config"],
            )
            self._config_error = None
        except ValueError as exc:
            self._config_error = str(exc)
            log.warning("configuration error: %s", exc)
            if not self._resolved_once:  # no previous settings: the user's own, if they hold
                self._settings = self._user_level_settings()
        self._resolved_once = True
        self.editor.timeout_s = self._settings.client_request_timeout
        self.approver.timeout_s = self._settings.approval_timeout
        for warning in self._settings.warnings:
            if warning not in self._warned:  # once per server, not at every configuration pull
                self._warned.add(warning)
                log.warning("configuration: %s", warning)
                self.window_log_message(
                    types.LogMessageParams(
                        type=types.MessageType.Warning, message=f"claw: {warning}"
                    )
                )

    def _user_level_settings(self) -> Settings:
        try:
            return resolve_settings(user_file=self.layers["user_file"], env=self.layers["env"])
        except ValueError:
            return Settings()

    def build_service(self) -> AgentService:
        if self._service is not None:
            return self._service
        from claw_lsp.agent.service import AgentService
        from claw_lsp.sessions.store import SessionStore

        store = SessionStore(self.settings.state_dir, on_warning=self.warn)
        store.cleanup_temp_files()
        self.claw_workspace.protected_real_dirs = (self.settings.state_dir.resolve(),)
        self._service = AgentService(
            settings=lambda: self.settings,
            workspace=self.claw_workspace,
            editor=self.editor,
            approver=self.approver,
            events=self.events_for,
            store=store,
            models=self.models,
            language=self.language_hub_factory(),
        )
        self.on_service_built(self._service)
        return self._service

    def events_for(self, session: str, turn: int) -> LspEvents:
        events = self.turn_events.get(f"{session}:{turn}")
        return events or LspEvents(self, session, turn, on_proposal=self.on_proposals_changed)

    def warn(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"claw: {message}")
        )

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would show the exception text to the user; log it instead (it may hold secrets).
        if expected_client_error(error):
            return  # the client got a clear error; OneLineClientErrors logged one line
        log.error("server error (%s): %s", getattr(source, "__name__", source), type(error))
