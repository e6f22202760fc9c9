"""The resolved, frozen `Settings` every layer reads. Light on purpose (no pydantic): the server
imports it before the initialize response; the options schema (schema.py) produces it later.

Each attribute that users can set is also a field of `ClawOptions` in schema.py, with the same
name and default (tests/unit/test_settings_schema.py checks that the two agree).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from claw_lsp.config.mcp_servers import McpServerSpec
from claw_lsp.foundation.secrets import display_url
from claw_lsp.foundation.tiers import Tier

ApprovalMode = Literal["ask", "deny"]
ApprovalPrompt = Literal["auto", "dialog", "diagnostic"]
EditMode = Literal["apply", "propose"]
ToolMode = Literal["native", "text", "auto"]

NO_BACKEND_MESSAGE = (
    "No model backend is configured. Set OPENAI_BASE_URL (and OPENAI_MODEL, OPENAI_API_KEY if "
    "needed) to an OpenAI-compatible server such as vLLM (http://127.0.0.1:8000/v1), Ollama "
    "(http://127.0.0.1:11434/v1) or a LiteLLM proxy, or set claw.baseUrl in the editor; or install "
    "the embedded demo model with scripts/install-local.sh."
)


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def default_state_dir() -> Path:
    if env := os.environ.get("CLAW_STATE_DIR"):
        return Path(env).expanduser()
    from platformdirs import user_state_path

    return user_state_path("claw-lsp", appauthor=False)


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


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    tier: Tier = Tier.READ_ONLY
    approvals: ApprovalMode = "ask"
    # How approvals reach the user: a dialog, an Information diagnostic with quick fixes, or
    # "auto" by the client's capabilities (issue 14).
    approval_prompt: ApprovalPrompt = "auto"
    edit_mode: EditMode = "apply"
    max_turns: int = 25
    max_tool_calls: int = 300  # tool calls per turn (maxTurns counts model calls)
    request_timeout: float = 120.0
    connect_timeout: float = 5.0  # not a setting (yet)
    approval_timeout: float = 120.0
    client_request_timeout: float = 30.0
    turn_deadline: float = 1800.0  # not a setting (yet)
    state_dir: Path = field(default_factory=lambda: default_state_dir())
    context_window: int | None = None
    compact_threshold: float = 0.8
    text_tool_calls: bool = True
    tool_mode: ToolMode = "auto"
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
    # Language servers claw runs itself (issue 16), by name, and how long an edit waits for
    # the diagnostics of the new text.
    language_servers: Mapping[str, LanguageServerConfig] = field(default_factory=dict)
    diagnostics_wait: float = 1.5
    # Subagents (the task tool): a child's model calls, nesting depth, children at once.
    subagent_max_turns: int = 15
    subagent_depth: int = 1
    subagent_parallel: int = 1
    # Derived, not settings: where baseUrl came from, and the unknown keys that were ignored
    # (shown by window/logMessage, /status and doctor).
    backend_source: str = "none"
    warnings: tuple[str, ...] = ()

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


def with_tier(settings: Settings, tier: Tier) -> Settings:
    return replace(settings, tier=tier)
