"""What the user sees about the MCP servers: /mcp, `claw.mcpServers`, `claw-lsp doctor`."""

from __future__ import annotations

from typing import Any

from claw_lsp.foundation.secrets import redact
from claw_lsp.mcp.manager import McpManager
from claw_lsp.mcp.prompts import prompt_commands
from claw_lsp.mcp.tools import exposed_tools


def server_rows(manager: McpManager) -> list[dict[str, Any]]:
    commands = prompt_commands(manager)
    rows = []
    for name, slot in sorted(manager.slots.items()):
        connection = slot.connection if slot.ready else None
        listing = connection.listing if connection is not None else None
        rows.append(
            {
                "name": name,
                "origin": slot.spec.origin,
                "transport": slot.spec.transport,
                "target": redact(slot.spec.describe()),  # args may carry a token
                "trusted": slot.spec.trusted,
                "state": slot.state,
                "tools": len(exposed_tools(slot.spec, listing.tools)) if listing else 0,
                "resources": len(listing.resources) if listing else 0,
                "prompts": [
                    {"command": f"/{c.name}", "usage": c.usage, "description": c.description}
                    for c in commands
                    if c.server == name
                ],
                "protocolVersion": connection.protocol_version if connection else None,
                "startSeconds": _rounded(connection.start_seconds) if connection else None,
                "lastError": slot.last_error,
            }
        )
    return rows


def project_rows(manager: McpManager) -> list[dict[str, Any]]:
    return [
        {
            "file": str(file.path),
            "decision": file.decision or ("error" if file.error else "not decided"),
            "servers": [spec.name for spec in file.specs],
            "error": file.error,
        }
        for file in manager.project_files
    ]


def status_payload(manager: McpManager) -> dict[str, Any]:
    """The `claw.mcpServers` result (and the editors' prompt pickers' source)."""
    return {"servers": server_rows(manager), "projectFiles": project_rows(manager)}


def render_status(manager: McpManager) -> str:
    rows = server_rows(manager)
    if not rows and not manager.project_files:
        return (
            "No MCP servers are configured. Add mcpServers to your user settings (see "
            "docs/mcp.md) or a project .mcp.json."
        )
    lines = ["MCP servers:"]
    for row in rows:
        lines.append(f"  {row['name']:<16} {row['state']:<12} {_counts(row)}")
        lines.append(f"  {'':<16} {row['transport']}: {row['target']} ({_origin(row)})")
        if row["lastError"]:
            lines.append(f"  {'':<16} last error: {row['lastError']}")
    for file in project_rows(manager):
        servers = ", ".join(file["servers"]) or "no servers"
        lines.append(f"Project file {file['file']}: {file['decision']} ({servers})")
        if file["error"]:
            lines.append(f"  {file['error']}")
    if manager.problems:
        lines += ["Tools left out:", *(f"  {problem}" for problem in manager.problems)]
    commands = [p for row in rows for p in row["prompts"]]
    if commands:
        lines.append("Prompts: " + ", ".join(p["usage"] for p in commands))
    lines.append("/mcp reset-project forgets your answers about this workspace's project files.")
    return "\n".join(lines)


async def doctor_report(manager: McpManager) -> tuple[list[str], list[dict[str, Any]], bool]:
    """Starts every configured server (now, whatever the backoff) and reports each one."""
    await manager.ensure(force=True)
    rows = server_rows(manager)
    lines = []
    for row in rows:
        if row["state"] == "ready":
            lines.append(
                f"  {row['name']}: ready in {row['startSeconds']} s ({row['protocolVersion']}), "
                f"{_counts(row)}"
            )
        else:
            lines.append(f"  {row['name']}: {row['state'].upper()} ({row['lastError']})")
    ok = all(row["state"] == "ready" for row in rows)
    return (["MCP servers:", *lines] if lines else ["MCP servers: none configured"]), rows, ok


def _counts(row: dict[str, Any]) -> str:
    return f"{row['tools']} tools, {row['resources']} resources, {len(row['prompts'])} prompts"


def _origin(row: dict[str, Any]) -> str:
    return "user settings" if row["origin"] == "user" else row["origin"]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
