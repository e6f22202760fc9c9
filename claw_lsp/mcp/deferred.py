"""Deferred loading: when the MCP tools' schemas exceed `mcpSchemaBudget`, the model gets one
`mcp_tools` search tool instead of every schema, and a tool's schema joins the request only
after the model asked for it (Claude Code's tool search, for 16k-token local models).

Loaded tools are remembered per session (ToolContext.loaded_tools) and appended after the
other tools, so each load extends the tool list once and the prefix is stable again after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace

from claw_lsp.mcp.names import one_line
from claw_lsp.permissions.policy import may_offer
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.tools.base import Access, Tool, ToolArgs, ToolContext, ToolOutput, define_tool

SEARCH_TOOL = "mcp_tools"
LOAD_AT_MOST = 3
LIST_AT_MOST = 60


def schema_chars(tools: Sequence[Tool]) -> int:
    return sum(len(json.dumps(t.definition, separators=(",", ":"))) for t in tools)


def defer_if_over_budget(tools: Sequence[Tool], budget: int) -> tuple[list[Tool], bool]:
    """The tools, all deferred when their definitions together exceed `budget` characters."""
    if schema_chars(tools) <= budget:
        return list(tools), False
    return [replace(tool, deferred=True) for tool in tools], True


class SearchArgs(ToolArgs):
    server: str | None = None
    query: str | None = None


def search_tool(tools: Callable[[], Sequence[Tool]], servers: Sequence[str], count: int) -> Tool:
    """`mcp_tools {server?, query?}` over the deferred tools that `tools()` returns."""
    names = ", ".join(servers)

    def plan(args: SearchArgs, ctx: ToolContext) -> Access:
        return Access(kind="read")  # reads claw's own list of tools, nothing else

    async def run(args: SearchArgs, ctx: ToolContext) -> ToolOutput:
        settings = ctx.settings()
        rules = PermissionRules.from_config(settings.permissions)
        offered = [
            t
            for t in tools()
            if may_offer(
                t.kind,
                t.name,
                tier=settings.tier,
                approvals=settings.approvals,
                rules=rules,
                trusted_read_only=t.trusted_read_only,
            )
            and (not args.server or t.source == f"mcp:{args.server}")
        ]
        return _answer(offered, (args.query or "").strip(), ctx.loaded_tools)

    return define_tool(
        SEARCH_TOOL,
        f"Find and load tools of the MCP servers ({names}; {count} tools). Their schemas are "
        "not sent until loaded: search with words (the best matches are loaded) or "
        "`select:NAME,NAME` for exact names; no query lists every tool. Then call a loaded "
        "tool by its name.",
        SearchArgs,
        "read",
        plan,
        run,
    )


def _answer(offered: Sequence[Tool], query: str, loaded: list[str]) -> ToolOutput:
    if not offered:
        return ToolOutput("No MCP tools are available here.", "no MCP tools")
    if not query:
        rows = [f"- {t.name}: {one_line(t.description)}" for t in offered[:LIST_AT_MOST]]
        more = len(offered) - LIST_AT_MOST
        tail = [f"... and {more} more (search with a query)"] if more > 0 else []
        text = "\n".join(
            [f"{len(offered)} MCP tools (none loaded by a listing; search to load):", *rows, *tail]
        )
        return ToolOutput(text, f"listed {len(offered)} MCP tools")
    if query.startswith("select:"):
        wanted = [name.strip() for name in query[7:].split(",") if name.strip()]
        by_name = {t.name: t for t in offered}
        chosen = [by_name[name] for name in wanted if name in by_name]
        unknown = [name for name in wanted if name not in by_name]
        matches = chosen
    else:
        matches = _ranked(offered, query)
        chosen, unknown = matches[:LOAD_AT_MOST], []
    for tool in chosen:
        if tool.name not in loaded:
            loaded.append(tool.name)
    lines = []
    if chosen:
        lines.append("Loaded, callable now: " + ", ".join(t.name for t in chosen))
    if unknown:
        lines.append("No such tool: " + ", ".join(unknown))
    if not matches:
        lines.append(f"No MCP tool matches {query!r}; call {SEARCH_TOOL} without a query to list.")
    lines += [f"- {t.name}: {one_line(t.description)}" for t in matches[:25]]
    if len(matches) > len(chosen):
        lines.append("Load another match with select:NAME.")
    return ToolOutput("\n".join(lines), f"loaded {len(chosen)} of {len(matches)} matching tools")


def _ranked(tools: Sequence[Tool], query: str) -> list[Tool]:
    terms = [term for term in query.lower().replace(",", " ").split() if term]
    scored = []
    for tool in tools:
        name, description = tool.name.lower(), tool.description.lower()
        score = 100 if query.lower() in (name, name.split("__")[-1]) else 0
        score += sum(10 for term in terms if term in name)
        score += sum(3 for term in terms if term in description)
        if score:
            scored.append((-score, tool.name, tool))
    return [tool for _, _, tool in sorted(scored, key=lambda item: item[:2])]
