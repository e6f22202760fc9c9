"""What an ACP session can switch: its mode (claw's tier) and its model, and the MCP servers the
client hands over in session/new. The settings the service runs on are the user's own (config
file and environment) plus those servers; nothing a client sends can raise a tier beyond what
the modes offer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from acp import RequestError
from acp.schema import (
    SessionConfigOptionBoolean,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
)

from claw_lsp.agent.core import AgentCore, FolderState
from claw_lsp.config import Settings
from claw_lsp.config.mcp_servers import McpServerSpec, parse_mcp_servers
from claw_lsp.foundation.tiers import TIER_DESCRIPTIONS, Tier

MODEL_LIST_TIMEOUT_S = 3.0
_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")
_MODE_NAMES = {
    Tier.READ_ONLY: "Read-only",
    Tier.WRITE: "Write",
    Tier.SHELL: "Shell",
    Tier.UNSAFE: "Unsafe",
}
# Plan mode is not a tier: the session's prompts run as plan-mode turns (read-only tools plus
# exit_plan_mode, whatever the tier), and the folder's tier stays what it was for the turn that
# carries the plan out (accepting never raises it).
PLAN_MODE = "plan"
PLAN_MODE_NAME = "Plan"
PLAN_MODE_DESCRIPTION = (
    "investigate with read-only tools and hand over a plan; /accept-plan carries it out at "
    "the tier chosen before"
)


class SessionOptions:
    def __init__(self, base: Settings) -> None:
        self.base = base  # the user's configuration, resolved once at start
        self.client_servers: dict[str, McpServerSpec] = {}
        self._listed: dict[str, list[str]] = {}  # the backend's model list, by base URL

    def settings(self) -> Settings:
        """The service's settings: the user's, plus the MCP servers ACP clients configured
        (a server of the user's own config wins a name clash)."""
        if not self.client_servers:
            return self.base
        own = {spec.name for spec in self.base.mcp_servers}
        extra = tuple(s for name, s in sorted(self.client_servers.items()) if name not in own)
        return replace(self.base, mcp_servers=(*self.base.mcp_servers, *extra))

    # -- modes ---------------------------------------------------------------------------------
    def tiers(self) -> list[Tier]:
        """read-only, write and shell always; unsafe only when the user's own configuration
        chose it (a client's mode switch must not be the way to turn vetting off)."""
        offered = [Tier.READ_ONLY, Tier.WRITE, Tier.SHELL]
        if self.base.tier is Tier.UNSAFE:
            offered.append(Tier.UNSAFE)
        return offered

    def modes(self, tier: Tier, plan: bool = False) -> SessionModeState:
        return SessionModeState(
            current_mode_id=PLAN_MODE if plan else tier.value,
            available_modes=[
                *(
                    SessionMode(id=t.value, name=_MODE_NAMES[t], description=TIER_DESCRIPTIONS[t])
                    for t in self.tiers()
                ),
                SessionMode(id=PLAN_MODE, name=PLAN_MODE_NAME, description=PLAN_MODE_DESCRIPTION),
            ],
        )

    def tier_for_mode(self, mode_id: str) -> Tier:
        for tier in self.tiers():
            if tier.value == mode_id:
                return tier
        offered = ", ".join([*(t.value for t in self.tiers()), PLAN_MODE])
        raise RequestError.invalid_params({"message": f"unknown mode {mode_id!r}; use {offered}"})

    # -- the model -----------------------------------------------------------------------------
    async def config(
        self, service: AgentCore, state: FolderState, plan: bool = False
    ) -> list[SessionConfigOptionSelect | SessionConfigOptionBoolean]:
        """The mode (as the modes API says it too, for clients that only read options) and
        the model: the configured one plus what the backend lists."""
        settings = service.settings_for(state)
        options: list[SessionConfigOptionSelect | SessionConfigOptionBoolean] = [
            SessionConfigOptionSelect(
                type="select",
                id="mode",
                name="Mode",
                category="mode",
                current_value=PLAN_MODE if plan else settings.tier.value,
                options=[
                    *(
                        SessionConfigSelectOption(value=t.value, name=_MODE_NAMES[t])
                        for t in self.tiers()
                    ),
                    SessionConfigSelectOption(value=PLAN_MODE, name=PLAN_MODE_NAME),
                ],
            )
        ]
        current = settings.model or service.models.describe(settings).get("model") or ""
        names = await self._listed_models(service, settings)
        choices = list(dict.fromkeys([*([current] if current else []), *names]))
        if choices:
            options.append(
                SessionConfigOptionSelect(
                    type="select",
                    id="model",
                    name="Model",
                    category="model",
                    current_value=current or choices[0],
                    options=[SessionConfigSelectOption(value=n, name=n) for n in choices],
                )
            )
        return options

    async def _listed_models(self, service: AgentCore, settings: Settings) -> list[str]:
        """The backend's /models, asked once per backend and briefly: a session must not wait
        on a slow or absent backend to open (the picker then offers the configured model)."""
        key = settings.base_url or ""
        if key not in self._listed:
            try:
                names = await asyncio.wait_for(
                    service.models.available_models(settings), MODEL_LIST_TIMEOUT_S
                )
            except TimeoutError:
                return []
            self._listed[key] = names
        return self._listed[key]

    def set_model(self, service: AgentCore, name: str) -> None:
        if not _MODEL_NAME.match(name):
            raise RequestError.invalid_params({"message": f"{name!r} is not a model name"})
        service.model_override = name  # as /model: for this process's run, every folder

    # -- MCP servers from the client -----------------------------------------------------------
    def add_mcp_servers(self, servers: Sequence[Any], cwd: Path) -> None:
        table: dict[str, Any] = {}
        for server in servers:
            data = server.model_dump(by_alias=True, exclude_none=True)
            name = str(data.get("name", ""))
            if data.get("type") == "http":
                headers = {h["name"]: h["value"] for h in data.get("headers") or []}
                table[name] = {"type": "http", "url": data.get("url"), "headers": headers}
            elif data.get("type") in (None, "stdio") and "command" in data:
                env = {e["name"]: e["value"] for e in data.get("env") or []}
                table[name] = {
                    "command": data["command"],
                    "args": list(data.get("args") or []),
                    "env": env,
                    "cwd": str(cwd),
                }
            else:
                raise RequestError.invalid_params(
                    {"message": f"MCP server {name!r}: only stdio and http are supported"}
                )
        try:
            specs = parse_mcp_servers(table, origin="ACP client")
        except ValueError as exc:
            raise RequestError.invalid_params({"message": str(exc)}) from None
        for spec in specs:
            self.client_servers[spec.name] = spec
