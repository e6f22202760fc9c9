"""The options schema: every setting claw-lsp reads, in one pydantic model.

Each field is one setting: its snake_case name is the `Settings` attribute, its camelCase alias the
key users write, and `option(...)` gives its default, bounds, description and whether it is
security-relevant (never taken from workspace/configuration, which editors fill from workspace
files a hostile repository controls). docs/configuration.md, the VS Code extension's settings and
the Neovim plugin's option types are generated from it: `python -m claw_lsp.config.generate
--write`. Loaded only when settings are resolved, never on the `initialize` path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
)

from claw_lsp.config.language_servers import parse_language_servers
from claw_lsp.config.mcp_servers import McpServerSpec, parse_mcp_servers
from claw_lsp.config.settings import (
    ApprovalMode,
    ApprovalPrompt,
    EditMode,
    LanguageServerConfig,
    Settings,
    ToolMode,
)
from claw_lsp.config.sources import camel
from claw_lsp.foundation.secrets import register_secret, register_url_credentials
from claw_lsp.foundation.tiers import TIER_DESCRIPTIONS, Tier


def option(
    default: Any = None,
    description: str = "",
    *,
    security: bool = False,
    ge: float | None = None,
    le: float | None = None,
    shown_default: str | None = None,
    choices: Mapping[str, str] | None = None,
    vscode: bool = True,
    default_factory: Any = None,
) -> Any:
    """One setting. `security`: user-level sources only. `shown_default`: how the docs spell a
    default that is computed (None here). `choices`: value -> what it means (VS Code shows
    these). `vscode=False`: not offered as a VS Code setting (the API key is never a setting)."""
    extra: dict[str, Any] = {"security": security, "vscode": vscode}
    if shown_default is not None:
        extra["shownDefault"] = shown_default
    if choices:
        extra["choices"] = dict(choices)
    if default_factory is not None:
        return Field(
            default_factory=default_factory,
            description=description,
            json_schema_extra=extra,
        )
    return Field(default, description=description, ge=ge, le=le, json_schema_extra=extra)


# -- coercion before validation: what the config file, the environment and editors send -------


def _number(value: Any) -> Any:
    if isinstance(value, bool):  # True is an int to Python, never a number of seconds
        raise ValueError("must be a number")
    return value.strip() if isinstance(value, str) else value


def _word(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _words(value: Any) -> list[str]:
    """A list, or one comma-separated string (how the environment spells a list)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise ValueError("must be a list of strings")


def _base_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"baseUrl must start with http:// or https://, got {url!r}")
    register_url_credentials(url)  # user:pass@ in the URL is a secret too
    return url


def _api_key(value: Any) -> str | None:
    key = str(value) or None
    register_secret(key)
    return key


def _model(value: Any) -> str | None:
    return str(value).strip() or None


def _tier(value: Any) -> Tier:
    return value if isinstance(value, Tier) else Tier.parse(str(value))


def _state_dir(value: Any) -> Path:
    return Path(str(value)).expanduser()


def _permissions(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("permissions must be a table with allow/ask/deny lists")
    return dict(value)


def _mcp(value: Any) -> tuple[McpServerSpec, ...]:
    return parse_mcp_servers(value, origin="user")


Seconds = Annotated[float, BeforeValidator(_number)]
Count = Annotated[int, BeforeValidator(_number)]
Flag = Annotated[bool, BeforeValidator(_word)]
Words = Annotated[tuple[str, ...], BeforeValidator(_words)]
_TABLE = {"type": "object", "additionalProperties": {"type": "object"}}


class ClawOptions(BaseModel):
    """Every setting. Adding one: a field here, the same attribute on `Settings`, then
    `python -m claw_lsp.config.generate --write` (docs/DEVELOPMENT.md, "A new setting")."""

    model_config = ConfigDict(alias_generator=camel, frozen=True, extra="ignore")

    # -- the backend -------------------------------------------------------------------------
    base_url: Annotated[str | None, BeforeValidator(_base_url)] = option(
        None,
        "OpenAI-compatible endpoint, usually ending in `/v1` (e.g. `http://127.0.0.1:8000/v1`). "
        "Unset: `OPENAI_BASE_URL`/`CLAW_BASE_URL`, the config file, else the embedded demo model "
        "if installed.",
        security=True,
        shown_default="none",
    )
    model: Annotated[str | None, BeforeValidator(_model)] = option(
        None, "Model name sent to the backend.", shown_default="the backend's first listed model"
    )
    api_key: Annotated[str | None, BeforeValidator(_api_key)] = option(
        None,
        "API key for the backend. Prefer the environment (`OPENAI_API_KEY`/`CLAW_API_KEY`); "
        "it is never written anywhere. VS Code keeps it in its secret storage instead "
        "(**Claw: Set API Key**).",
        security=True,
        shown_default="none",
        vscode=False,
    )
    request_timeout: Seconds = option(
        120.0,
        "Seconds without data from the backend before a request fails (connecting: 5 s).",
        ge=1,
        le=3600,
    )
    context_window: Annotated[int | None, BeforeValidator(_number)] = option(
        None,
        "The model's context window in tokens.",
        ge=512,
        le=10_000_000,
        shown_default="from the backend, else 32768",
    )
    compact_threshold: Seconds = option(
        0.8, "Compact the conversation above this share of the context window.", ge=0.1, le=1.0
    )
    tool_mode: Annotated[ToolMode, BeforeValidator(_word)] = option(
        "auto",
        "How tools reach the model.",
        choices={
            "native": "OpenAI tool calling.",
            "text": "Tools described in the system prompt, calls parsed from the reply "
            "(backends without tool calling).",
            "auto": "Text only when the backend probe found no tool calling.",
        },
    )
    text_tool_calls: Flag = option(True, "Recover tool calls the model wrote as text.")
    empty_stream_retry: Flag = option(
        True,
        "Retry once without streaming when a streamed reply with tools comes back empty "
        "(some Ollama builds).",
    )
    # -- permissions -------------------------------------------------------------------------
    tier: Annotated[
        Tier,
        PlainValidator(_tier),
        WithJsonSchema({"type": "string", "enum": [t.value for t in Tier]}),
    ] = option(
        Tier.READ_ONLY,
        "Permission tier the server starts with (see security.md).",
        security=True,
        choices={t.value: TIER_DESCRIPTIONS[t] for t in Tier},
    )
    approvals: Annotated[ApprovalMode, BeforeValidator(_word)] = option(
        "ask",
        "What happens when a tool call needs more than the tier allows.",
        security=True,
        choices={
            "ask": "Ask in the editor.",
            "deny": "Refuse without asking; tools the tier cannot run are not offered.",
        },
    )
    approval_prompt: Annotated[ApprovalPrompt, BeforeValidator(_word)] = option(
        "auto",
        "How an approval reaches you (see clients.md).",
        choices={
            "auto": "By the client's capabilities: a dialog where it has one "
            "(window/showMessageRequest), else an Information diagnostic with quick fixes.",
            "dialog": "Always a dialog (window/showMessageRequest).",
            "diagnostic": "Always an Information diagnostic whose quick fixes answer it "
            "(Helix, Kakoune).",
        },
    )
    approval_timeout: Seconds = option(
        120.0, "Seconds to answer an approval before it counts as denied.", ge=1, le=3600
    )
    permissions: Annotated[dict[str, Any], BeforeValidator(_permissions)] = option(
        description="`{allow = [...], ask = [...], deny = [...]}` rules (see security.md).",
        security=True,
        default_factory=dict,
    )
    protected_paths: Words = option(
        (), "Extra globs that always need approval to change.", security=True
    )
    network: Flag = option(False, "Let sandboxed shell commands use the network.", security=True)
    allow_unsandboxed: Flag = option(
        True,
        "Without a working sandbox, shell commands may still run after your approval (marked "
        "NOT sandboxed); `false` refuses them below the `unsafe` tier.",
        security=True,
    )
    shell_timeout_max: Seconds = option(
        120.0, "Upper bound in seconds for a shell command's timeout.", ge=1, le=3600, security=True
    )
    env_passthrough: Words = option(
        (),
        "Extra environment variable names passed to shell commands (secret-looking names never "
        "are).",
        security=True,
    )
    # -- edits and turns ---------------------------------------------------------------------
    edit_mode: Annotated[EditMode, BeforeValidator(_word)] = option(
        "apply",
        "Whether agent edits are applied at once or held as proposals to review.",
        choices={
            "apply": "Applied to the editor buffers at once (undo: Claw: Undo Last Turn).",
            "propose": "Held as proposals to review in a diff and accept or reject.",
        },
    )
    max_turns: Count = option(25, "Model calls per prompt, at most.", ge=1, le=500)
    max_tool_calls: Count = option(
        300,
        "Tool calls per prompt, at most (`maxTurns` counts model calls); the turn then stops and "
        "says so.",
        ge=1,
        le=10_000,
    )
    client_request_timeout: Seconds = option(
        30.0,
        "Seconds to wait for the editor's answer to `workspace/applyEdit` and other requests.",
        ge=0.5,
        le=3600,
    )
    state_dir: Annotated[Path | None, BeforeValidator(_state_dir)] = option(
        None,
        "Where sessions are stored.",
        security=True,
        shown_default="the user state directory",
    )
    # -- tool sources ------------------------------------------------------------------------
    language_servers: Annotated[
        dict[str, LanguageServerConfig],
        PlainValidator(parse_language_servers),  # its ConfigError is a ValueError
        WithJsonSchema(_TABLE),
    ] = option(
        description="Language servers claw runs itself for plain LSP clients and the CLI: "
        "`{NAME: {command: [...], filetypes?, extensions?, initializationOptions?, settings?}}` "
        "(see Language servers below). VS Code and Neovim use their own servers instead.",
        security=True,
        default_factory=dict,
    )
    diagnostics_wait: Seconds = option(
        1.5, "Seconds an edit waits at most for the diagnostics of the new text.", ge=0, le=30
    )
    mcp_servers: Annotated[
        tuple[McpServerSpec, ...], PlainValidator(_mcp), WithJsonSchema(_TABLE)
    ] = option(
        (),
        "MCP servers, as Claude Code and Cursor write them: `{NAME: {command, args?, env?, "
        'cwd?} | {type: "http", url, headers?}}`, plus `trusted` and `tools: {allow, deny}` '
        "(see mcp.md). Every MCP tool call asks unless a `permissions` rule allows it.",
        security=True,
        shown_default="{}",
    )
    mcp_timeout: Seconds = option(
        60.0,
        "Seconds an MCP server has to answer a request (the call is then cancelled).",
        ge=1,
        le=3600,
    )
    mcp_schema_budget: Count = option(
        4000,
        "Characters of MCP tool schemas per request; above it, the model gets one `mcp_tools` "
        "tool and loads the schemas it needs.",
        ge=0,
        le=10_000_000,
    )
    # -- subagents (the task tool) -------------------------------------------------------------
    subagent_max_turns: Count = option(
        15, "Model calls a subagent (the `task` tool) may make before it must answer.", ge=1, le=200
    )
    subagent_depth: Count = option(
        1,
        "How deep subagents nest: 0 offers no `task` tool; 1 lets the main agent delegate but "
        "gives its children no `task` tool.",
        ge=0,
        le=3,
    )
    subagent_parallel: Count = option(
        1,
        "Subagents running at once (local GPUs serve one request at a time; raise it for a "
        "backend that batches).",
        ge=1,
        le=16,
    )
    # -- diagnostics of claw itself ----------------------------------------------------------
    debug: Flag = option(
        False,
        "Accepted (also as `CLAW_DEBUG`) but not read yet: start the server with "
        "`claw-lsp --debug` for more logging.",
        security=True,
        vscode=False,
    )


def check_settings_agree() -> list[str]:
    """Problems between the schema and `Settings` (the drift test prints them)."""
    attributes = {f.name: f for f in fields(Settings)}
    problems = []
    for name, info in ClawOptions.model_fields.items():
        attr = attributes.get(name)
        if attr is None:
            problems.append(
                f"Settings (claw_lsp/config/settings.py) needs the attribute {name}, with the "
                f"schema's default {info.default!r} (the schema's {info.alias})"
            )
            continue
        if info.default is None or info.default_factory is not None:
            continue  # computed by Settings (state_dir) or empty either way
        if attr.default is MISSING or attr.default != info.default:
            problems.append(
                f"{name}: the schema's default {info.default!r} differs from Settings' "
                f"{attr.default!r}"
            )
    return problems
