"""Raw options from the user config file and the environment, as camelCase key -> value.

Light on purpose (tomllib, no pydantic): `claw-lsp` reads these before it serves `initialize`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claw_lsp.config.settings import ConfigError

# Environment variables, by option key: OPENAI_* exactly as claw-code-agent reads them; the
# CLAW_* variants come later in each tuple and win. docs/configuration.md lists them (generated).
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "baseUrl": ("OPENAI_BASE_URL", "CLAW_BASE_URL"),
    "apiKey": ("OPENAI_API_KEY", "CLAW_API_KEY"),
    "model": ("OPENAI_MODEL", "CLAW_MODEL"),
    "tier": ("CLAW_TIER",),
    "approvals": ("CLAW_APPROVALS",),
    "editMode": ("CLAW_EDIT_MODE",),
    "maxTurns": ("CLAW_MAX_TURNS",),
    "maxToolCalls": ("CLAW_MAX_TOOL_CALLS",),
    "requestTimeout": ("CLAW_REQUEST_TIMEOUT",),
    "stateDir": ("CLAW_STATE_DIR",),
    "contextWindow": ("CLAW_CONTEXT_WINDOW",),
    "debug": ("CLAW_DEBUG",),
}

_SNAKE_PART = re.compile(r"_([a-z0-9])")


def camel(key: str) -> str:
    """`max_turns` -> `maxTurns` (the config file may spell keys either way); camelCase stays.
    The options schema uses the same function for its aliases, so the two always agree."""
    return _SNAKE_PART.sub(lambda match: match.group(1).upper(), key)


def normalise_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {camel(str(k)): v for k, v in raw.items()}


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "claw-lsp" / "config.toml"


def read_user_config(path: Path | None = None) -> dict[str, Any]:
    path = path or user_config_path()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    # Keys stay as written (snake_case or camelCase): the resolver reads both, and a warning
    # about an unknown key names it the way the user spelt it.
    return _with_user_mcp_json(data, path.parent / "mcp.json")


def options_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for key, names in ENV_NAMES.items():
        for name in names:
            if env.get(name):
                out[key] = env[name]
    return out


def _with_user_mcp_json(options: dict[str, Any], path: Path) -> dict[str, Any]:
    """A user-level mcp.json next to config.toml, in Claude Code's `{"mcpServers": {...}}`
    form, so an existing block can be pasted as it is; config.toml entries win by name."""
    if not path.is_file():
        return options
    key = "mcp_servers" if "mcp_servers" in options else "mcpServers"
    try:
        servers = json.loads(path.read_text(encoding="utf-8"))["mcpServers"]
        merged = {**servers, **options.get(key, {})}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f'{path} must be {{"mcpServers": {{...}}}}: {exc}') from None
    return {**options, key: merged}
