"""The agent's state and the collaborators it is built from: the folder/session index, the
resolved settings per folder, the tool catalog, the model provider. Front doors build one
AgentService (agent/service.py) on top of this; operations and slash commands take it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from claw_lsp.agent.agent_tools import AgentTools
from claw_lsp.agent.skills import SkillTools
from claw_lsp.agent.state import FolderState, SessionIndex, SessionState
from claw_lsp.agent.subagents import SubagentSlots
from claw_lsp.agent.turn import EventsFactory, TurnDeps
from claw_lsp.config import Settings
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.edits.proposals import ProposalStore
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.ports import Approver, Editor
from claw_lsp.foundation.tiers import Tier
from claw_lsp.llm.provider import ModelProvider
from claw_lsp.mcp.manager import McpManager
from claw_lsp.mcp.prompts import McpPromptCommands, resource_readers
from claw_lsp.permissions.paths import Root, Workspace
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.base import ToolSource
from claw_lsp.tools.builtin import BuiltinTools
from claw_lsp.tools.catalog import Toolbox, ToolCatalog

if TYPE_CHECKING:  # loaded only with language servers (issue 22: a fast CLI start without)
    from claw_lsp.lsp_tools.hub import LanguageHub
    from claw_lsp.lsp_tools.source import LanguageTools

__all__ = ["AgentCore", "CommandSource", "FolderState", "ServiceError", "SessionState"]


class CommandSource(Protocol):
    """Slash commands that come and go with their source (MCP prompts): listed in /help and
    the editors' pickers; `expand` turns one into the prompt of a model turn (None: not
    this source's command; ValueError: a usage problem, shown to the user)."""

    async def commands(self) -> Sequence[tuple[str, str]]: ...  # (usage, description)

    async def expand(self, name: str, args: str) -> str | None: ...


class AgentCore:
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
        catalog: ToolCatalog | None = None,
        language: LanguageHub | None = None,
    ) -> None:
        self._settings = settings
        self.workspace = workspace
        self.editor = editor
        self.approver = approver
        self.events = events
        self.store = store
        self.models = models
        # Language servers (the editor's, or claw-run ones): tools and the edit delta.
        self.language = language
        self.language_tools: LanguageTools | None = None
        if language is not None:
            from claw_lsp.lsp_tools.source import LanguageTools

            self.language_tools = LanguageTools(language)
        # MCP servers: a tool source (started lazily, on the first turn that could use them),
        # readers for @server:uri mentions and a source of slash commands (their prompts).
        self.mcp = McpManager(settings, workspace, approver)
        sources: list[ToolSource] = [BuiltinTools(), AgentTools(), SkillTools()]
        if self.language_tools is not None:
            sources.append(self.language_tools)
        sources.append(self.mcp)
        self.catalog = catalog or ToolCatalog(sources)
        self.command_sources: list[CommandSource] = [McpPromptCommands(self.mcp)]
        self.proposals = ProposalStore()
        self.index = SessionIndex(workspace, store)
        self.on_status_change: Callable[[FolderState], None] = lambda state: None
        self.model_override: str | None = None
        self.subagent_slots = SubagentSlots()  # issue 18: subagentParallel across all turns

    @property
    def folders(self) -> dict[str, FolderState]:
        return self.index.folders

    def folder(self, folder_uri: str | None = None, uri: str | None = None) -> FolderState:
        return self.index.folder(folder_uri, uri)

    def find_session(self, session_id: str) -> tuple[FolderState, SessionState]:
        return self.index.find(session_id)

    def new_session(self, state: FolderState) -> SessionState:
        return self.index.new(state)

    def settings_for(self, state: FolderState) -> Settings:
        base = self._settings()
        if self.model_override:
            base = replace(base, model=self.model_override)
        return replace(base, tier=state.tier) if state.tier is not None else base

    def tier_of(self, root: Root) -> Tier:
        """The tier of the folder a change lands in (each folder keeps its own)."""
        return self.settings_for(self.index.state_for(root)).tier

    def toolbox(self, state: FolderState) -> Toolbox:
        return self.catalog.snapshot(state.root)

    async def aclose(self) -> None:
        """Stops what the agent started (MCP servers); the front door calls it on exit."""
        await self.catalog.aclose()

    def turn_deps(self) -> TurnDeps:
        return TurnDeps(
            workspace=self.workspace,
            editor=self.editor,
            approver=self.approver,
            events=self.events,
            index=self.index,
            models=self.models,
            catalog=self.catalog,
            proposals=self.proposals,
            settings_for=self.settings_for,
            system_prompt=SYSTEM_PROMPT,
            tier_of=self.tier_of,
            observer=self.language_tools.observer if self.language_tools else lambda: None,
            resource_readers=lambda: resource_readers(self.mcp),
            subagent_slots=self.subagent_slots,
        )

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
