"""Configuration: raw options from each source -> one resolved, frozen `Settings`.

- `settings.py`: the `Settings` every layer reads (light: no pydantic);
- `sources.py`: the user config file and the environment, as raw options;
- `schema.py`: the options schema (pydantic), one field per setting: key, default, bounds,
  description, and whether it is security-relevant;
- `resolve.py`: merges the sources in precedence order and validates them with the schema;
- `language_servers.py`, `mcp_servers.py`: the two settings with a structure of their own;
- `generate.py`: writes docs/configuration.md's table and the editors' settings from the schema.

The schema (and pydantic with it) loads when settings are first resolved, which the server does
after its initialize response, so `from claw_lsp.config import Settings` stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claw_lsp.config.language_servers import parse_language_servers
from claw_lsp.config.mcp_servers import McpServerSpec, parse_mcp_servers
from claw_lsp.config.settings import (
    NO_BACKEND_MESSAGE,
    ApprovalMode,
    ConfigError,
    EditMode,
    LanguageServerConfig,
    Settings,
    default_state_dir,
    with_tier,
)
from claw_lsp.config.sources import (
    normalise_keys,
    options_from_env,
    read_user_config,
    user_config_path,
)

__all__ = [
    "NO_BACKEND_MESSAGE",
    "ApprovalMode",
    "ConfigError",
    "EditMode",
    "LanguageServerConfig",
    "McpServerSpec",
    "Settings",
    "default_state_dir",
    "normalise_keys",
    "options_from_env",
    "parse_language_servers",
    "parse_mcp_servers",
    "read_user_config",
    "resolve_settings",
    "security_keys",
    "user_config_path",
    "with_tier",
]


def resolve_settings(
    *,
    user_file: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    init_options: Mapping[str, Any] | None = None,
    workspace_config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources in precedence order and validate every value (see resolve.py)."""
    from claw_lsp.config import resolve

    return resolve.resolve_settings(
        user_file=user_file,
        env=env,
        init_options=init_options,
        workspace_config=workspace_config,
        overrides=overrides,
    )


def security_keys() -> frozenset[str]:
    """The keys workspace/configuration may never set."""
    from claw_lsp.config import resolve

    return resolve.security_keys()
