"""The language tools as a tool source, and the diagnostics tool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from claw_lsp.lsp_tools.common import Call, LanguageArgs, language_tool, object_schema
from claw_lsp.lsp_tools.delta import DeltaObserver
from claw_lsp.lsp_tools.diagnostics import Diagnostic, plural
from claw_lsp.lsp_tools.hub import LanguageHub, LanguageUnavailable
from claw_lsp.lsp_tools.navigation import (
    definition_tool,
    hover_tool,
    references_tool,
    workspace_symbols_tool,
)
from claw_lsp.lsp_tools.rename import rename_tool
from claw_lsp.permissions.paths import PathDenied, ResolvedPath, Root
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, ToolOutput

MAX_DIAGNOSTIC_FILES = 10
MAX_DIAGNOSTIC_LINES = 50


class DiagnosticsArgs(LanguageArgs):
    path: str | None = None


def _targets(call: Call[DiagnosticsArgs], ctx: ToolContext) -> list[ResolvedPath]:
    if call.args.path:
        return [ctx.resolve(call.args.path)]
    out = []
    for path in list(ctx.applier.journal.entries)[:MAX_DIAGNOSTIC_FILES]:
        try:
            out.append(ctx.workspace.resolve(str(path)))
        except PathDenied:
            continue
    return out


def diagnostics_tool(hub: LanguageHub) -> Tool:
    def plan(call: Call[DiagnosticsArgs], ctx: ToolContext) -> Access:
        targets = _targets(call, ctx)
        if not targets:
            raise ToolError("no file was edited in this turn yet; pass a path")
        call.found = targets
        return Access("read", paths=tuple(targets))

    async def run(call: Call[DiagnosticsArgs], ctx: ToolContext) -> ToolOutput:
        sections: list[str] = []
        budget = MAX_DIAGNOSTIC_LINES
        for target in call.found:
            found, note = await _diagnostics_of(hub, target)
            shown = [d for d in found if d.severity <= 2]
            errors = sum(1 for d in shown if d.severity == 1)
            head = (
                f"{target.relative}: {plural(errors, 'error')}, "
                f"{plural(len(shown) - errors, 'warning')}{note}"
            )
            rows = ["  " + d.describe(target.relative) for d in shown[:budget]]
            if len(shown) > budget:
                rows.append(f"  ... and {len(shown) - budget} more")
            budget = max(0, budget - len(rows))
            sections.append("\n".join([head, *rows]))
        content = "\n".join(sections)
        return ToolOutput(content, content.splitlines()[0][:200])

    return language_tool(
        "diagnostics",
        "Errors/warnings of path or of the files edited this turn",
        DiagnosticsArgs,
        object_schema({"path": {}}, []),
        "read",
        plan,
        run,
    )


async def _diagnostics_of(hub: LanguageHub, target: ResolvedPath) -> tuple[list[Diagnostic], str]:
    try:
        doc = hub.read(target)
    except LanguageUnavailable as exc:
        raise ToolError(str(exc)) from None
    if hub.channel is not None:
        found = await hub.editor_diagnostics(doc)
        if found is not None:
            return found, " (from the editor)"
        if hub.store.has(doc.uri):
            return hub.store.current(doc.uri), " (as last reported by the editor)"
    servers = hub.servers_for(target.path, doc.language_id)
    if not servers:
        if hub.channel is not None:
            raise ToolError(f"the editor reported no diagnostics for {target.relative}")
        raise ToolError(f"no language server covers {target.relative}")
    found, problems = await hub.server_diagnostics(doc, servers, hub.diagnostics_wait())
    names = ", ".join(s.name for s in servers)
    failed = f"; failed: {'; '.join(problems)}" if problems else ""
    return found, f" (from {names}{failed})"


class LanguageTools:
    """The tool source. Offers its tools only while some language server can answer: the
    editor's (a client with `claw/lsp`) or claw-run ones (`languageServers`)."""

    name = "lsp"

    def __init__(self, hub: LanguageHub) -> None:
        self.hub = hub
        self._tools: tuple[Tool, ...] = (
            diagnostics_tool(hub),
            definition_tool(hub),
            references_tool(hub),
            hover_tool(hub),
            workspace_symbols_tool(hub),
            rename_tool(hub),
        )
        self._silent: Counter[str] = Counter()

    def tools(self, root: Root) -> Sequence[Tool]:
        return self._tools if self.hub.available() else ()

    def observer(self) -> DeltaObserver | None:
        """The diagnostics delta for one turn; None when no language server is available."""
        return DeltaObserver(self.hub, self._silent) if self.hub.available() else None
