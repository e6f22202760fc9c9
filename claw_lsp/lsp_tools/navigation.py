"""definition, references, hover and workspace_symbols: read-only questions to the language
servers. Each plans by asking (before the permission decision), so every workspace file an
answer shows a line of is in the call's Access and under the path rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from claw_lsp.edits.positions import PositionEncoding
from claw_lsp.lsp_tools.common import (
    POSITION_PROPERTIES,
    POSITION_REQUIRED,
    Call,
    LanguageArgs,
    Located,
    PositionArgs,
    language_tool,
    locate,
    object_schema,
    require_answers,
    servers_note,
)
from claw_lsp.lsp_tools.hub import LanguageHub, resolve_location_path
from claw_lsp.lsp_tools.render import Spot, hover_text, line_and_column, spots, symbol_spots
from claw_lsp.lsp_tools.render import unique as unique_spots
from claw_lsp.permissions.paths import ResolvedPath
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, ToolOutput

MAX_DEFINITIONS = 20
MAX_REFERENCES = 50
MAX_SYMBOLS = 50


@dataclass
class Found:
    located: Located | None
    shown: list[Spot]
    total: int
    where: list[ResolvedPath | str]  # per shown spot: its workspace path, or a path outside
    note: str


def _plan_access(found: Found, first: ResolvedPath | None) -> Access:
    paths: dict[str, ResolvedPath] = {}
    for target in [first, *found.where]:
        if isinstance(target, ResolvedPath):
            paths.setdefault(str(target.path), target)
    return Access("read", paths=tuple(paths.values()))


def _listing(ctx: ToolContext, found: Found) -> list[str]:
    rows = []
    texts: dict[str, str | None] = {}
    for spot, where in zip(found.shown, found.where, strict=True):
        if isinstance(where, ResolvedPath):
            key = str(where.path)
            if key not in texts:
                try:
                    texts[key] = ctx.read_text(where).text
                except ToolError:
                    texts[key] = None
            line, column, content = line_and_column(texts[key], spot)
            label = f"{spot.label} — " if spot.label else ""
            shown = f": {content}" if content else ""
            rows.append(f"  {label}{where.relative}:{line}:{column}{shown}")
        else:
            line, column, _ = line_and_column(None, spot)
            label = f"{spot.label} — " if spot.label else ""
            rows.append(f"  {label}{where}:{line}:{column} (outside the workspace)")
    return rows


def _locations_tool(
    hub: LanguageHub,
    name: str,
    description: str,
    method: str,
    limit: int,
    extra_params: dict[str, object],
    render: Callable[[PositionArgs, Found, list[str]], str],
) -> Tool:
    async def plan(call: Call[PositionArgs], ctx: ToolContext) -> Access:
        located = locate(hub, ctx, call.args)

        def params(encoding: PositionEncoding) -> dict[str, object]:
            return {
                "textDocument": located.text_document(),
                "position": located.position(encoding),
                **extra_params,
            }

        answers = await hub.ask(
            method, located.doc, params, sync_open=method == "textDocument/references"
        )
        require_answers(answers, name, located.target.relative)
        every = unique_spots([s for a in answers.answers for s in spots(a.result, a.encoding)])
        shown = every[:limit]
        where = [resolve_location_path(ctx.workspace, s.uri) for s in shown]
        call.found = Found(located, shown, len(every), where, servers_note(answers))
        return _plan_access(call.found, located.target)

    async def run(call: Call[PositionArgs], ctx: ToolContext) -> ToolOutput:
        found: Found = call.found
        assert found.located is not None
        text = render(call.args, found, _listing(ctx, found))
        note = found.located.spot.note(call.args.symbol, call.args.line)
        content = f"{text}\n{note}".strip() if note else text
        return ToolOutput(content, content.splitlines()[0][:200])

    return language_tool(
        name,
        description,
        PositionArgs,
        object_schema(POSITION_PROPERTIES, POSITION_REQUIRED),
        "read",
        plan,
        run,
    )


def _render_definition(args: PositionArgs, found: Found, rows: list[str]) -> str:
    if not rows:
        return f"No definition found for '{args.symbol}' {found.note}"
    return "\n".join([f"'{args.symbol}' is defined at {found.note}:", *rows])


def _render_references(args: PositionArgs, found: Found, rows: list[str]) -> str:
    if not rows:
        return f"No references found for '{args.symbol}' {found.note}"
    shown = "" if found.total <= len(rows) else f", showing the first {len(rows)}"
    head = f"{found.total} reference(s) to '{args.symbol}'{shown} {found.note}:"
    return "\n".join([head, *rows])


def definition_tool(hub: LanguageHub) -> Tool:
    return _locations_tool(
        hub,
        "definition",
        "line: 1-based; symbol: its text on that line",
        "textDocument/definition",
        MAX_DEFINITIONS,
        {},
        _render_definition,
    )


def references_tool(hub: LanguageHub) -> Tool:
    return _locations_tool(
        hub,
        "references",
        "",
        "textDocument/references",
        MAX_REFERENCES,
        {"context": {"includeDeclaration": True}},
        _render_references,
    )


def hover_tool(hub: LanguageHub) -> Tool:
    async def plan(call: Call[PositionArgs], ctx: ToolContext) -> Access:
        located = locate(hub, ctx, call.args)

        def params(encoding: PositionEncoding) -> dict[str, object]:
            return {"textDocument": located.text_document(), "position": located.position(encoding)}

        answers = await hub.ask("textDocument/hover", located.doc, params)
        require_answers(answers, "hover", located.target.relative)
        texts = [hover_text(a.result) for a in answers.answers]
        call.found = ("\n\n".join(t for t in texts if t), located, servers_note(answers))
        return Access("read", paths=(located.target,))

    async def run(call: Call[PositionArgs], ctx: ToolContext) -> ToolOutput:
        text, located, note = call.found
        if not text:
            content = f"No hover information for '{call.args.symbol}' {note}"
        else:
            content = f"{text}\n{note}"
        extra = located.spot.note(call.args.symbol, call.args.line)
        content = f"{content}\n{extra}" if extra else content
        return ToolOutput(content, f"hover {call.args.symbol}")

    return language_tool(
        "hover",
        "",
        PositionArgs,
        object_schema(POSITION_PROPERTIES, POSITION_REQUIRED),
        "read",
        plan,
        run,
    )


class SymbolsArgs(LanguageArgs):
    query: str


def workspace_symbols_tool(hub: LanguageHub) -> Tool:
    async def plan(call: Call[SymbolsArgs], ctx: ToolContext) -> Access:
        query = call.args.query.strip()
        if not query:
            raise ToolError("query is empty: give (part of) a symbol name")
        answers = await hub.ask("workspace/symbol", None, lambda encoding: {"query": query})
        if not answers.covered:
            raise ToolError("no language server is available (none in the editor or configured)")
        require_answers(answers, "workspace_symbols", "the workspace")
        every = unique_spots(
            [s for a in answers.answers for s in symbol_spots(a.result, a.encoding)]
        )
        shown = every[:MAX_SYMBOLS]
        where = [resolve_location_path(ctx.workspace, s.uri) for s in shown]
        call.found = Found(None, shown, len(every), where, servers_note(answers))
        return _plan_access(call.found, None)

    async def run(call: Call[SymbolsArgs], ctx: ToolContext) -> ToolOutput:
        found: Found = call.found
        rows = _listing(ctx, found)
        if not rows:
            content = f"No symbols match '{call.args.query}' {found.note}"
        else:
            shown = "" if found.total <= len(rows) else f", showing the first {len(rows)}"
            content = "\n".join(
                [f"{found.total} symbol(s) match '{call.args.query}'{shown} {found.note}:", *rows]
            )
        return ToolOutput(content, content.splitlines()[0][:200])

    return language_tool(
        "workspace_symbols",
        "",
        SymbolsArgs,
        object_schema({"query": {}}, ["query"]),
        "read",
        plan,
        run,
    )
