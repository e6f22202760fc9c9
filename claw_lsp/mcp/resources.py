"""MCP resources: the model's `read_mcp_resource` tool (the user's `@server:uri` mention is in
prompts.py).

A read the model asks for is an `mcp` call like a tool call (it asks unless a rule allows
`read_mcp_resource(server:uri-glob)` or the server is trusted: resources are read-only by
definition, and `trusted` means the user believes the server's read-only claims). A mention
is the user's own request, so it is attached without asking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from claw_lsp.foundation.events import EventSink
from claw_lsp.mcp.names import one_line
from claw_lsp.mcp.results import render_contents
from claw_lsp.permissions.rules import READ_MCP_RESOURCE
from claw_lsp.tools.base import (
    Access,
    Tool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolOutput,
    define_tool,
)

ReadResource = Callable[[str, str, EventSink], Awaitable[Mapping[str, Any]]]
ListResources = Callable[[str], Sequence[Mapping[str, Any]]]


class ResourceArgs(ToolArgs):
    server: str
    uri: str | None = None


def read_resource_tool(
    servers: Sequence[str], trusted: set[str], read: ReadResource, listed: ListResources
) -> Tool:
    names = ", ".join(servers)

    def checked(args: ResourceArgs) -> str:
        if args.server not in servers:
            raise ToolError(f"no MCP server {args.server!r} with resources; servers: {names}")
        return args.server

    def plan(args: ResourceArgs, ctx: ToolContext) -> Access:
        server = checked(args)
        if not args.uri:
            return Access(kind="read")  # claw's own copy of the server's list
        return Access(
            kind="mcp",
            subject=f"MCP server {server}, resource {args.uri}",
            target=f"{server}:{args.uri}",
            trusted_read_only=server in trusted,
        )

    async def run(args: ResourceArgs, ctx: ToolContext) -> ToolOutput:
        server = checked(args)
        if not args.uri:
            rows = [
                f"- {r.get('uri')}: {r.get('name', '')} {one_line(r.get('description'))}".rstrip()
                for r in listed(server)
            ]
            return ToolOutput("\n".join(rows) or "no resources", f"{len(rows)} resources")
        result = await read(server, args.uri, ctx.events)
        text = render_contents(result.get("contents") or [])
        return ToolOutput(text or "(empty resource)", f"{server}: {args.uri}")

    tool = define_tool(
        READ_MCP_RESOURCE,
        f"Read a resource of an MCP server ({names}) by its URI; without a uri, list the "
        "server's resources.",
        ResourceArgs,
        "mcp",
        plan,
        run,
    )
    return replace(tool, trusted_read_only=bool(trusted & set(servers)))
