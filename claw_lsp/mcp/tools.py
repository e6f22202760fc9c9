"""An MCP server's tools as claw tools: data for the one orchestrator.

Each tool keeps the server's input schema (what the model is sent drops only annotations) and
is validated against it before anything is sent. Its access kind is `mcp`: it asks before
every call below the unsafe tier, unless a permission rule allows it by name or the server is
`trusted` and annotates the tool `readOnlyHint: true`.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from claw_lsp.config.mcp_servers import McpServerSpec
from claw_lsp.foundation.events import EventSink
from claw_lsp.mcp.names import exposed_names, one_line
from claw_lsp.mcp.results import compact_json, render_tool_result
from claw_lsp.mcp.schemas import ArgumentValidator, SchemaProblem, model_schema
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, ToolOutput

log = logging.getLogger(__name__)
MAX_DESCRIPTION = 1000
MAX_SUBJECT_ARGS = 600
# (server, tool, arguments, events) -> the CallToolResult in wire form; raises ToolError
CallTool = Callable[[str, str, dict[str, Any], EventSink], Awaitable[Mapping[str, Any]]]


def exposed_tools(spec: McpServerSpec, listed: Sequence[Mapping[str, Any]]) -> list[str]:
    """The server's tool names that `tools.allow` / `tools.deny` let through."""
    names = [str(tool.get("name", "")) for tool in listed if tool.get("name")]

    def wanted(name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in spec.deny):
            return False
        return not spec.allow or any(fnmatch.fnmatchcase(name, p) for p in spec.allow)

    return [name for name in names if wanted(name)]


def build_server_tools(
    spec: McpServerSpec, listed: Sequence[Mapping[str, Any]], call: CallTool
) -> tuple[list[Tool], list[str]]:
    """(tools in name order, problems): a tool whose schema is unusable is left out."""
    by_name = {str(tool.get("name")): tool for tool in listed}
    wanted = exposed_tools(spec, listed)
    names = exposed_names(spec.name, wanted)
    tools: list[Tool] = []
    problems: list[str] = []
    for name in sorted(wanted, key=lambda n: names[n]):
        raw = by_name[name]
        try:
            tools.append(_tool(spec, raw, names[name], call))
        except SchemaProblem as exc:
            problems.append(f"{spec.name} tool {name}: {exc}; not offered")
    return tools, problems


def _tool(spec: McpServerSpec, raw: Mapping[str, Any], exposed: str, call: CallTool) -> Tool:
    name = str(raw["name"])
    schema = raw.get("inputSchema") if isinstance(raw.get("inputSchema"), Mapping) else {}
    validator = ArgumentValidator(schema or {"type": "object"})
    validator.check_schema()
    annotations = raw.get("annotations") if isinstance(raw.get("annotations"), Mapping) else {}
    read_only = spec.trusted and (annotations or {}).get("readOnlyHint") is True
    description = str(raw.get("description") or raw.get("title") or f"{name} ({spec.name})")

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        problems = validator.errors(arguments)
        if problems:
            raise ToolError(
                f"invalid arguments for {exposed}: " + "; ".join(problems) + ". Nothing was sent "
                "to the server; send arguments matching the tool's schema."
            )
        return arguments

    def plan(arguments: dict[str, Any], ctx: ToolContext) -> Access:
        shown = compact_json(arguments)
        if len(shown) > MAX_SUBJECT_ARGS:
            shown = shown[:MAX_SUBJECT_ARGS] + f"... [{len(shown) - MAX_SUBJECT_ARGS} more]"
        return Access(
            kind="mcp",
            subject=f"MCP server {spec.name}, tool {name} {shown}",
            trusted_read_only=read_only,
        )

    async def run(arguments: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        result = await call(spec.name, name, arguments, ctx.events)
        rendered = render_tool_result(result)
        if rendered.is_error:
            raise ToolError(f"{exposed} reported an error: {rendered.text}")
        return ToolOutput(rendered.text, f"{spec.name}/{name}: {one_line(rendered.text, 100)}")

    return Tool(
        name=exposed,
        description=_capped(description),
        parameters=model_schema(schema),
        kind="mcp",
        validate=validate,
        plan=plan,
        run=run,
        source=f"mcp:{spec.name}",
        trusted_read_only=read_only,
    )


def _capped(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def tool_rows(tools: Sequence[Tool]) -> list[str]:
    """`name: one-line description` per tool, for listings."""
    return [f"{tool.name}: {one_line(tool.description)}" for tool in tools]
