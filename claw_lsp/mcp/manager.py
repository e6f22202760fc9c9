"""The MCP tool source: every configured server, started lazily, listed between turns only.

Servers come from the user's `mcpServers` and from approved project files (project.py). They
start on the first turn that could use them (with `approvals: deny`, only servers whose tools
could run unasked: trusted ones, or ones an allow rule names), concurrently. Before each turn
`prepare` restarts failed servers whose backoff has passed and applies list_changed
notifications; `tools()` then lists the live servers' tools for the turn's snapshot, so the
tool list never changes within a turn. A failure gives one notice and the server's tools
disappear from the next turn on.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claw_lsp.config import Settings
from claw_lsp.config.mcp_servers import McpServerSpec
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import Approver, DenyingApprover
from claw_lsp.foundation.tiers import Tier
from claw_lsp.mcp.connection import McpCallError, McpConnection
from claw_lsp.mcp.deferred import defer_if_over_budget, search_tool
from claw_lsp.mcp.launch import LaunchError, resolve_launch
from claw_lsp.mcp.names import exposed_name
from claw_lsp.mcp.project import ProjectApprovals, ProjectFile, decide_project_files
from claw_lsp.mcp.resources import read_resource_tool
from claw_lsp.mcp.tools import build_server_tools
from claw_lsp.permissions.paths import Root, Workspace
from claw_lsp.permissions.rules import MCP_PREFIX, PermissionRules
from claw_lsp.tools.base import Tool, ToolContext, ToolError

log = logging.getLogger(__name__)
BACKOFF_S = (0.0, 5.0, 30.0, 120.0, 600.0)  # after the 1st, 2nd, ... failure in a row
APPROVALS_FILE = "mcp-project-approvals.json"


@dataclass
class ServerSlot:
    spec: McpServerSpec
    base_dir: Path | None
    connection: McpConnection | None = None
    failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = None
    noticed: str | None = None  # the failure the user was last told about

    @property
    def ready(self) -> bool:
        return self.connection is not None and self.connection.status == "ready"

    @property
    def state(self) -> str:
        if self.connection is None:
            return "failed" if self.last_error else "not started"
        return self.connection.status


@dataclass
class McpManager:
    settings: Callable[[], Settings]
    workspace: Workspace
    approver: Approver = field(default_factory=DenyingApprover)
    name: str = "mcp"
    slots: dict[str, ServerSlot] = field(default_factory=dict)
    project_files: list[ProjectFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _notices: list[str] = field(default_factory=list)
    _denied_this_run: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    _cache_key: Any = None
    _cache: tuple[Tool, ...] = ()

    # -- the tool source ---------------------------------------------------------------------
    async def prepare(self, ctx: ToolContext, approver: Approver) -> None:
        settings = ctx.settings()
        async with self._lock:
            await self._reconcile(settings, approver)
            wanted = [slot for slot in self.slots.values() if _could_use(slot.spec, settings)]
            await asyncio.gather(*(self._ensure(slot, settings) for slot in wanted))
        self.flush_notices(ctx.events)

    def tools(self, root: Root) -> Sequence[Tool]:
        ready = [slot for _, slot in sorted(self.slots.items()) if slot.ready]
        budget = self.settings().mcp_schema_budget
        key = (budget, tuple((s.spec, id(_listing(s))) for s in ready))
        if key == self._cache_key:
            return self._cache
        server_tools: list[Tool] = []
        problems: list[str] = []
        for slot in ready:
            built, trouble = build_server_tools(slot.spec, _listing(slot).tools, self.call_tool)
            server_tools += built
            problems += trouble
        for problem in problems:
            if problem not in self.problems:
                log.warning("mcp: %s", problem)
        self.problems = problems
        tools, deferred = defer_if_over_budget(server_tools, budget)
        extra: list[Tool] = []
        with_resources = [s.spec.name for s in ready if _listing(s).resources]
        if with_resources:
            trusted = {s.spec.name for s in ready if s.spec.trusted}
            extra.append(
                read_resource_tool(
                    with_resources,
                    trusted,
                    self.read_resource,
                    lambda server: _listing(self.slots[server]).resources,
                )
            )
        if deferred:
            names = [s.spec.name for s in ready]
            extra.append(search_tool(lambda: tools, names, len(tools)))
        self._cache_key, self._cache = key, (*extra, *tools)
        return self._cache

    async def aclose(self) -> None:
        async with self._lock:
            await asyncio.gather(*(self._stop(slot) for slot in self.slots.values()))

    def configured_names(self) -> set[str]:
        return {spec.name for spec in self.settings().mcp_servers} | set(self.slots)

    # -- on demand (user-initiated: @server:uri mentions, prompt commands, /mcp, doctor) -------
    async def ensure(
        self, names: Sequence[str] | None = None, *, force: bool = False
    ) -> list[ServerSlot]:
        """Starts the named servers (all when None) if they are not running; `force` retries
        failed ones now, whatever their backoff. Returns their slots."""
        settings = self.settings()
        async with self._lock:
            await self._reconcile(settings, self.approver)
            slots = [s for n, s in sorted(self.slots.items()) if names is None or n in names]
            if force:
                for slot in slots:
                    slot.retry_at = 0.0
            await asyncio.gather(*(self._ensure(slot, settings) for slot in slots))
        return slots

    def forget_project_decisions(self) -> list[str]:
        store = ProjectApprovals(self.settings().state_dir / APPROVALS_FILE)
        return [root.name for root in self.workspace.roots if store.forget(root)]

    def flush_notices(self, events: EventSink) -> None:
        notices, self._notices = self._notices, []
        for message in notices:
            events.emit("notice", {"message": message})

    # -- requests the tools make -------------------------------------------------------------
    async def call_tool(
        self, server: str, tool: str, arguments: dict[str, Any], events: EventSink
    ) -> Mapping[str, Any]:
        return await self._request(server, lambda c: c.call_tool(tool, arguments), events)

    async def read_resource(self, server: str, uri: str, events: EventSink) -> Mapping[str, Any]:
        return await self._request(server, lambda c: c.read_resource(uri), events)

    async def get_prompt(
        self, server: str, name: str, args: dict[str, str], events: EventSink
    ) -> Mapping[str, Any]:
        return await self._request(server, lambda c: c.get_prompt(name, args), events)

    async def _request(
        self, server: str, call: Callable[[Any], Any], events: EventSink
    ) -> Mapping[str, Any]:
        """One request, its result in wire form; failures as ToolError (and the notice now)."""
        slot = self.slots.get(server)
        if slot is None or slot.connection is None:
            raise ToolError(f"the MCP server {server} is not running")
        try:
            result = await slot.connection.request(call)
        except McpCallError as exc:
            self.flush_notices(events)
            raise ToolError(str(exc)) from None
        dumped: Mapping[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped

    # -- lifecycle ---------------------------------------------------------------------------
    async def _reconcile(self, settings: Settings, approver: Approver) -> None:
        """Slots for the configured servers: user entries, then approved project entries."""
        desired: dict[str, tuple[McpServerSpec, Path | None]] = {}
        first = self.workspace.roots[0].real_path if self.workspace.roots else None
        for spec in settings.mcp_servers:
            desired[spec.name] = (spec, first)
        files: list[ProjectFile] = []
        if self.workspace.roots:
            store = ProjectApprovals(settings.state_dir / APPROVALS_FILE)
            files = await decide_project_files(
                self.workspace.roots,
                store,
                approver,
                may_ask=settings.approvals != "deny",
                session_denials=self._denied_this_run,
            )
        self.project_files = files
        for file in files:
            for spec in file.specs if file.decision == "approved" else ():
                desired.setdefault(spec.name, (spec, file.root.real_path))
        for name in list(self.slots):
            slot = self.slots[name]
            if desired.get(name) != (slot.spec, slot.base_dir):
                await self._stop(slot)
                del self.slots[name]
        for name, (spec, base_dir) in desired.items():
            self.slots.setdefault(name, ServerSlot(spec, base_dir))

    async def _ensure(self, slot: ServerSlot, settings: Settings) -> None:
        connection = slot.connection
        if connection is not None and connection.status == "ready":
            try:
                await connection.refresh()
            except McpCallError:
                pass  # the connection recorded the failure
            if connection.status == "ready":
                return
        if time.monotonic() < slot.retry_at:
            return
        try:
            launch = resolve_launch(
                slot.spec, passthrough=settings.env_passthrough, base_dir=slot.base_dir
            )
        except LaunchError as exc:
            slot.connection = None
            self._failed(slot, str(exc))
            return
        connection = McpConnection(launch, timeout=settings.mcp_timeout)
        slot.connection = connection
        connection.on_failure = lambda c: self._failed(slot, c.last_error or "")
        await connection.start()
        if connection.status == "ready":
            if slot.failures:
                self._notices.append(f"MCP server {slot.spec.name} is running again.")
            slot.failures, slot.retry_at, slot.last_error, slot.noticed = 0, 0.0, None, None

    def _failed(self, slot: ServerSlot, reason: str) -> None:
        connection = slot.connection
        started = connection is not None and connection.start_seconds is not None
        slot.failures += 1
        delay = BACKOFF_S[min(slot.failures, len(BACKOFF_S)) - 1]
        slot.retry_at = time.monotonic() + delay
        slot.last_error = reason
        if reason != slot.noticed:
            slot.noticed = reason
            what = "stopped" if started else "failed to start"
            when = "on the next turn" if delay == 0 else f"on a turn after {delay:g} s"
            self._notices.append(
                f"MCP server {slot.spec.name} {what}: {reason}. Its tools are unavailable; "
                f"claw tries again {when}."
            )

    async def _stop(self, slot: ServerSlot) -> None:
        if slot.connection is not None:
            await slot.connection.stop()


def _listing(slot: ServerSlot) -> Any:
    assert slot.connection is not None
    return slot.connection.listing


def _could_use(spec: McpServerSpec, settings: Settings) -> bool:
    """Whether a tool of this server could ever be offered in a turn under these settings."""
    if settings.approvals != "deny" or settings.tier == Tier.UNSAFE or spec.trusted:
        return True
    server = exposed_name(spec.name, "x")[len(MCP_PREFIX) : -len("__x")]  # as in tool names
    rules = PermissionRules.from_config(settings.permissions)
    for rule in rules.allow:
        if not rule.tool.startswith(MCP_PREFIX):
            continue
        server_part = rule.tool[len(MCP_PREFIX) :].split("__", 1)[0]
        if fnmatch.fnmatchcase(server, server_part):
            return True
    return False
