"""The `mcpServers` setting: the shape Claude Code and Cursor use, validated into specs.

Kept apart from the schema (which validates every other key) so that project files (.mcp.json)
are read with the same rules; the schema turns a ValueError from here into a ConfigError.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from claw_lsp.foundation.secrets import register_secret

_MCP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_SECRETISH = ("KEY", "SECRET", "TOKEN", "PASS", "AUTH", "COOKIE", "CREDENTIAL", "SESSION")


@dataclass(frozen=True)
class McpServerSpec:
    """One configured MCP server. Values are kept as written: `${VAR}` references are expanded
    when the server starts (claw_lsp/mcp/launch.py)."""

    name: str
    transport: Literal["stdio", "http"]
    command: str = ""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    cwd: str | None = None
    url: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    trusted: bool = False  # honour the server's readOnlyHint annotations
    allow: tuple[str, ...] = ()  # the server's own tool names (globs); empty: all
    deny: tuple[str, ...] = ()
    origin: str = "user"  # "user", or the project file it came from

    def describe(self) -> str:
        """The command line or URL, as an approval or /mcp shows it (no env or header values)."""
        if self.transport == "http":
            return self.url
        return " ".join(shlex.quote(word) for word in (self.command, *self.args))


def parse_mcp_servers(raw: Any, *, origin: str) -> tuple[McpServerSpec, ...]:
    """`{NAME: {command, args?, env?, cwd?} | {type: "http", url, headers?}}` plus the optional
    `trusted` and `tools: {allow?, deny?}`; entries with `disabled: true` are skipped. Sorted
    by name, so the tools they add come in a stable order."""
    if raw == []:
        return ()
    if not isinstance(raw, Mapping):
        raise ValueError("mcpServers must be a table of NAME = {command, args, env} entries")
    specs = []
    for name, entry in sorted(raw.items(), key=lambda item: str(item[0])):
        where = f"mcpServers.{name}"
        if not isinstance(name, str) or not _MCP_NAME.match(name) or "__" in name:
            raise ValueError(f"{where}: a server name is 1-40 letters, digits, '.', '_' or '-'")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a table")
        if entry.get("disabled") is True:
            continue
        specs.append(_mcp_spec(name, entry, where, origin))
    return tuple(specs)


def _mcp_spec(name: str, entry: Mapping[str, Any], where: str, origin: str) -> McpServerSpec:
    kind = entry.get("type") or ("http" if "url" in entry else "stdio")
    kind = "http" if kind in ("streamable-http", "streamableHttp") else kind
    if kind not in ("stdio", "http"):
        raise ValueError(f"{where}.type must be stdio or http (streamable HTTP), got {kind!r}")
    tools = entry.get("tools") or {}  # (an empty Lua table arrives as [], falsy too)
    if not isinstance(entry.get("trusted", False), bool) or not isinstance(tools, Mapping):
        raise ValueError(f"{where}: trusted must be true/false, tools a table of allow/deny")
    common: dict[str, Any] = {
        "name": name,
        "trusted": entry.get("trusted", False),
        "allow": _strings(tools.get("allow", []), f"{where}.tools.allow"),
        "deny": _strings(tools.get("deny", []), f"{where}.tools.deny"),
        "origin": origin,
    }
    url, command, cwd = entry.get("url"), entry.get("command"), entry.get("cwd")
    if kind == "http" and not (isinstance(url, str) and url.startswith(("http", "${"))):
        raise ValueError(f"{where}.url must be an http:// or https:// URL")
    if kind == "stdio" and not (isinstance(command, str) and command.strip()):
        raise ValueError(f"{where}.command must be the program to run (a string)")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError(f"{where}.cwd must be a path")
    table = _string_table(entry.get("headers" if kind == "http" else "env", {}), where)
    for key, value in table:  # secrets: masked wherever they could show up
        if any(word in key.upper() for word in _SECRETISH):
            register_secret(value)
            register_secret(value.split()[-1] if len(value.split()) > 1 else None)  # Bearer x
    if kind == "http":
        return McpServerSpec(transport="http", url=str(url), headers=table, **common)
    args = _strings(entry.get("args", []), f"{where}.args")
    return McpServerSpec(
        transport="stdio", command=str(command), args=args, env=table, cwd=cwd, **common
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(value)


def _string_table(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value == []:  # an empty Lua table arrives as a JSON array (Neovim)
        return ()
    if not isinstance(value, Mapping) or any(
        isinstance(v, bool) or not isinstance(v, str | int | float) for v in value.values()
    ):
        raise ValueError(f"{where}: env and headers must be tables of names to strings")
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))
