"""Configuration: raw options from each source -> one resolved, frozen Settings.

Precedence, low to high: built-in defaults < user config file < environment < LSP
initializationOptions < workspace/configuration. Security-relevant keys (SECURITY_KEYS) are never
taken from workspace/configuration, because editors fill that section from workspace files
(.vscode/settings.json) that a hostile repository controls; they come only from user-level sources
and initializationOptions, which the editor client builds from user-level settings.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from claw_lsp.config_mcp import McpServerSpec, parse_mcp_servers
from claw_lsp.foundation.secrets import display_url, register_secret, register_url_credentials
from claw_lsp.foundation.tiers import Tier

ApprovalMode = Literal["ask", "deny"]
EditMode = Literal["apply", "propose"]

SECURITY_KEYS = frozenset(
    {
        "baseUrl",
        "apiKey",
        "tier",
        "approvals",
        "stateDir",
        "permissions",
        "envPassthrough",
        "network",
        "allowUnsandboxed",
        "protectedPaths",
        "shellTimeoutMax",
        # Programs claw starts: a repository must never choose what runs (issue 16).
        "languageServers",
        "mcpServers",  # each entry is a command line claw-lsp will run
    }
)
_SNAKE_TO_CAMEL = {
    "base_url": "baseUrl",
    "api_key": "apiKey",
    "edit_mode": "editMode",
    "max_turns": "maxTurns",
    "max_tool_calls": "maxToolCalls",  # issue 22
    "request_timeout": "requestTimeout",
    "state_dir": "stateDir",
    "context_window": "contextWindow",
    "env_passthrough": "envPassthrough",
    "text_tool_calls": "textToolCalls",
    "allow_unsandboxed": "allowUnsandboxed",
    "protected_paths": "protectedPaths",
    "shell_timeout_max": "shellTimeoutMax",
    "approval_timeout": "approvalTimeout",
    "compact_threshold": "compactThreshold",
    "client_request_timeout": "clientRequestTimeout",
    "tool_mode": "toolMode",
    "empty_stream_retry": "emptyStreamRetry",
    "language_servers": "languageServers",
    "diagnostics_wait": "diagnosticsWait",
    "mcp_servers": "mcpServers",
    "mcp_timeout": "mcpTimeout",
    "mcp_schema_budget": "mcpSchemaBudget",
}
NO_BACKEND_MESSAGE = (
    "No model backend is configured. Set OPENAI_BASE_URL (and OPENAI_MODEL, OPENAI_API_KEY if "
    "needed) to an OpenAI-compatible server such as vLLM (http://127.0.0.1:8000/v1), Ollama "
    "(http://127.0.0.1:11434/v1) or a LiteLLM proxy, or set claw.baseUrl in the editor; or install "
    "the embedded demo model with scripts/install-local.sh."
)


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    tier: Tier = Tier.READ_ONLY
    approvals: ApprovalMode = "ask"
    edit_mode: EditMode = "apply"
    max_turns: int = 25
    # --- issue 22: maxToolCalls (tool calls per turn; maxTurns counts model calls) ---
    max_tool_calls: int = 300
    # --- end issue 22 ---
    request_timeout: float = 120.0
    connect_timeout: float = 5.0
    approval_timeout: float = 120.0
    client_request_timeout: float = 30.0
    turn_deadline: float = 1800.0
    state_dir: Path = field(default_factory=lambda: default_state_dir())
    context_window: int | None = None
    compact_threshold: float = 0.8
    text_tool_calls: bool = True
    tool_mode: Literal["native", "text", "auto"] = "auto"
    empty_stream_retry: bool = True
    network: bool = False
    allow_unsandboxed: bool = True
    shell_timeout_max: float = 120.0
    env_passthrough: tuple[str, ...] = ()
    permissions: Mapping[str, Any] = field(default_factory=dict)
    protected_paths: tuple[str, ...] = ()
    mcp_servers: tuple[McpServerSpec, ...] = ()
    mcp_timeout: float = 60.0
    mcp_schema_budget: int = 4000
    debug: bool = False
    backend_source: str = "none"
    # Language servers claw runs itself (issue 16), by name, and how long an edit waits for
    # the diagnostics of the new text.
    language_servers: Mapping[str, LanguageServerConfig] = field(default_factory=dict)
    diagnostics_wait: float = 1.5

    def public_view(self) -> dict[str, Any]:
        """What may be shown to the user: everything but the key."""
        return {
            "baseUrl": display_url(self.base_url),
            "model": self.model,
            "tier": self.tier.value,
            "approvals": self.approvals,
            "editMode": self.edit_mode,
            "maxTurns": self.max_turns,
            "requestTimeout": self.request_timeout,
            "stateDir": str(self.state_dir),
            "apiKey": "set" if self.api_key else "not set",
            "backendSource": self.backend_source,
        }


def default_state_dir() -> Path:
    if env := os.environ.get("CLAW_STATE_DIR"):
        return Path(env).expanduser()
    from platformdirs import user_state_path

    return user_state_path("claw-lsp", appauthor=False)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "claw-lsp" / "config.toml"


def normalise_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {_SNAKE_TO_CAMEL.get(k, k): v for k, v in raw.items()}


def read_user_config(path: Path | None = None) -> dict[str, Any]:
    path = path or user_config_path()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return _with_user_mcp_json(normalise_keys(data), path.parent / "mcp.json")


def options_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """OPENAI_* exactly as claw-code-agent reads them; CLAW_* variants win over them."""
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for key, names in {
        "baseUrl": ("OPENAI_BASE_URL", "CLAW_BASE_URL"),
        "apiKey": ("OPENAI_API_KEY", "CLAW_API_KEY"),
        "model": ("OPENAI_MODEL", "CLAW_MODEL"),
        "tier": ("CLAW_TIER",),
        "approvals": ("CLAW_APPROVALS",),
        "editMode": ("CLAW_EDIT_MODE",),
        "maxTurns": ("CLAW_MAX_TURNS",),
        "maxToolCalls": ("CLAW_MAX_TOOL_CALLS",),  # issue 22
        "requestTimeout": ("CLAW_REQUEST_TIMEOUT",),
        "stateDir": ("CLAW_STATE_DIR",),
        "contextWindow": ("CLAW_CONTEXT_WINDOW",),
        "debug": ("CLAW_DEBUG",),
    }.items():
        for name in names:
            if env.get(name):
                out[key] = env[name]
    return out


def resolve_settings(
    *,
    user_file: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    init_options: Mapping[str, Any] | None = None,
    workspace_config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources in precedence order and validate every value."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, layer in (
        ("config file", user_file),
        ("environment", env),
        ("initializationOptions", init_options),
        ("workspace configuration", workspace_config),
        ("command line", overrides),
    ):
        for key, value in normalise_keys(layer or {}).items():
            if value is None:
                continue
            if name == "workspace configuration" and key in SECURITY_KEYS:
                continue
            merged[key] = value
            sources[key] = name
    return _validate(merged, sources)


def _validate(raw: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
    def num(key: str, kind: type, low: float, high: float) -> Any:
        value = raw[key]
        try:
            if isinstance(value, bool):
                raise ValueError
            parsed = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
        if not low <= parsed <= high:
            raise ConfigError(f"{key} must be between {low} and {high}, got {parsed}")
        return parsed

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        value = str(raw[key]).strip().lower()
        if value not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {raw[key]!r}")
        return value

    values: dict[str, Any] = {}
    if "baseUrl" in raw:
        url = str(raw["baseUrl"]).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"baseUrl must start with http:// or https://, got {url!r}")
        values["base_url"] = url
        register_url_credentials(url)  # user:pass@ in the URL is a secret too
        values["backend_source"] = sources.get("baseUrl", "config")
    if "model" in raw:
        values["model"] = str(raw["model"]).strip() or None
    if "apiKey" in raw:
        values["api_key"] = str(raw["apiKey"]) or None
        register_secret(values["api_key"])
    if "tier" in raw:
        try:
            values["tier"] = Tier.parse(str(raw["tier"]))
        except ValueError as exc:
            raise ConfigError(f"tier: {exc}") from None
    if "approvals" in raw:
        values["approvals"] = choice("approvals", ("ask", "deny"))
    if "editMode" in raw:
        values["edit_mode"] = choice("editMode", ("apply", "propose"))
    if "maxTurns" in raw:
        values["max_turns"] = num("maxTurns", int, 1, 500)
    # --- issue 22: maxToolCalls ---
    if "maxToolCalls" in raw:
        values["max_tool_calls"] = num("maxToolCalls", int, 1, 10_000)
    # --- end issue 22 ---
    if "requestTimeout" in raw:
        values["request_timeout"] = num("requestTimeout", float, 1, 3600)
    if "approvalTimeout" in raw:
        values["approval_timeout"] = num("approvalTimeout", float, 1, 3600)
    if "clientRequestTimeout" in raw:
        values["client_request_timeout"] = num("clientRequestTimeout", float, 0.5, 3600)
    if "contextWindow" in raw:
        values["context_window"] = num("contextWindow", int, 512, 10_000_000)
    if "compactThreshold" in raw:
        values["compact_threshold"] = num("compactThreshold", float, 0.1, 1.0)
    if "shellTimeoutMax" in raw:
        values["shell_timeout_max"] = num("shellTimeoutMax", float, 1, 3600)
    if "stateDir" in raw:
        values["state_dir"] = Path(str(raw["stateDir"])).expanduser()
    if "toolMode" in raw:
        values["tool_mode"] = choice("toolMode", ("native", "text", "auto"))
    for key, attr in (
        ("textToolCalls", "text_tool_calls"),
        ("emptyStreamRetry", "empty_stream_retry"),
        ("network", "network"),
        ("allowUnsandboxed", "allow_unsandboxed"),
        ("debug", "debug"),
    ):
        if key in raw:
            values[attr] = _as_bool(raw[key])
    if "envPassthrough" in raw:
        values["env_passthrough"] = tuple(str(x) for x in _as_list(raw["envPassthrough"]))
    if "protectedPaths" in raw:
        values["protected_paths"] = tuple(str(x) for x in _as_list(raw["protectedPaths"]))
    if "mcpTimeout" in raw:
        values["mcp_timeout"] = num("mcpTimeout", float, 1, 3600)
    if "mcpSchemaBudget" in raw:
        values["mcp_schema_budget"] = num("mcpSchemaBudget", int, 0, 10_000_000)
    if "mcpServers" in raw:
        try:
            values["mcp_servers"] = parse_mcp_servers(raw["mcpServers"], origin="user")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if "permissions" in raw:
        if not isinstance(raw["permissions"], Mapping):
            raise ConfigError("permissions must be a table with allow/ask/deny lists")
        values["permissions"] = dict(raw["permissions"])
    if "languageServers" in raw:
        values["language_servers"] = parse_language_servers(raw["languageServers"])
    if "diagnosticsWait" in raw:
        values["diagnostics_wait"] = num("diagnosticsWait", float, 0, 30)
    return Settings(**values)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return list(value or [])


def with_tier(settings: Settings, tier: Tier) -> Settings:
    return replace(settings, tier=tier)


# -- languageServers (issue 16) -----------------------------------------------------------------


@dataclass(frozen=True)
class LanguageServerConfig:
    """One language server claw starts itself: `command` (argv, no shell), the files it covers
    (LSP language ids in `filetypes` and/or file name endings in `extensions`), and what it
    is initialised and configured with."""

    name: str
    command: tuple[str, ...]
    filetypes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    initialization_options: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)


_LANGUAGE_SERVER_KEYS = frozenset(
    {"command", "filetypes", "extensions", "initializationOptions", "settings"}
)


def parse_language_servers(raw: Any) -> dict[str, LanguageServerConfig]:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "languageServers must map a name to {command: [...], extensions: [...]}, e.g. "
            '{"python": {"command": ["jedi-language-server"], "extensions": [".py"]}}'
        )
    out: dict[str, LanguageServerConfig] = {}
    for name, spec in raw.items():
        where = f"languageServers.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where} must be a table with command and filetypes/extensions")
        unknown = sorted(set(spec) - _LANGUAGE_SERVER_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        command = spec.get("command")
        if isinstance(command, str):
            command = [command]
        if (
            not isinstance(command, list | tuple)
            or not command
            or not all(isinstance(part, str) and part for part in command)
        ):
            raise ConfigError(f"{where}.command must be a non-empty list of strings (argv)")
        filetypes = _string_list(spec.get("filetypes"), f"{where}.filetypes")
        extensions = tuple(
            e if e.startswith(".") else f".{e}"
            for e in _string_list(spec.get("extensions"), f"{where}.extensions")
        )
        if not filetypes and not extensions:
            raise ConfigError(f"{where} needs filetypes or extensions (which files it covers)")
        settings = spec.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise ConfigError(f"{where}.settings must be a table")
        out[str(name)] = LanguageServerConfig(
            name=str(name),
            command=tuple(command),
            filetypes=filetypes,
            extensions=tuple(e.lower() for e in extensions),
            initialization_options=spec.get("initializationOptions"),
            settings=dict(settings),
        )
    return out


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _with_user_mcp_json(options: dict[str, Any], path: Path) -> dict[str, Any]:
    """A user-level mcp.json next to config.toml, in Claude Code's `{"mcpServers": {...}}`
    form, so an existing block can be pasted as it is; config.toml entries win by name."""
    if not path.is_file():
        return options
    try:
        servers = json.loads(path.read_text(encoding="utf-8"))["mcpServers"]
        merged = {**servers, **options.get("mcpServers", {})}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f'{path} must be {{"mcpServers": {{...}}}}: {exc}') from None
    return {**options, "mcpServers": merged}
