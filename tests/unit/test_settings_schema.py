"""Settings from one schema (issue 12): the generated docs and editor settings match it, it agrees
with `Settings`, workspace files never set a security key, unknown keys warn by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.config import ConfigError, generate, resolve_settings, security_keys
from claw_lsp.config.resolve import option_keys
from claw_lsp.config.schema import ClawOptions, check_settings_agree
from claw_lsp.config.sources import ENV_NAMES, normalise_keys
from claw_lsp.foundation.tiers import Tier

# Every setting claw-lsp read before the schema existed (config.py, config_mcp.py): none lost.
SETTINGS_BEFORE = {
    "baseUrl", "model", "apiKey", "tier", "approvals", "editMode", "maxTurns", "requestTimeout",
    "approvalTimeout", "clientRequestTimeout", "contextWindow", "compactThreshold",
    "shellTimeoutMax", "stateDir", "toolMode", "textToolCalls", "emptyStreamRetry", "network",
    "allowUnsandboxed", "debug", "envPassthrough", "protectedPaths", "mcpTimeout",
    "mcpSchemaBudget", "mcpServers", "permissions", "languageServers", "diagnosticsWait",
}  # fmt: skip
SECURITY_BEFORE = {
    "baseUrl", "apiKey", "tier", "approvals", "stateDir", "permissions", "envPassthrough",
    "network", "allowUnsandboxed", "protectedPaths", "shellTimeoutMax", "languageServers",
    "mcpServers",
}  # fmt: skip


def test_generated_files_match_the_schema() -> None:
    stale = generate.drifted()
    assert stale == [], (
        f"{', '.join(map(str, stale))} drifted from claw_lsp/config/schema.py; "
        f"run: {generate.render.COMMAND}"
    )


def test_the_check_names_a_drifted_file_and_the_command_that_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, text in generate.expected_files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert generate.main(["--root", str(tmp_path)]) == 0
    lua = tmp_path / generate.LUA_TYPES
    lua.write_text(lua.read_text().replace("maxTurns?", "maxTurn?"))
    assert generate.main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert str(generate.LUA_TYPES) in err and "python -m claw_lsp.config.generate --write" in err
    assert generate.main(["--root", str(tmp_path), "--write"]) == 0
    assert generate.drifted(tmp_path) == []


def test_the_schema_agrees_with_settings_and_keeps_every_setting() -> None:
    assert check_settings_agree() == []
    keys = set(option_keys())
    assert keys >= SETTINGS_BEFORE, SETTINGS_BEFORE - keys
    assert security_keys() >= SECURITY_BEFORE, SECURITY_BEFORE - security_keys()
    assert set(ENV_NAMES) <= keys
    for info in ClawOptions.model_fields.values():
        assert info.description, f"{info.alias} needs a description"


def test_workspace_configuration_never_sets_a_security_key() -> None:
    hostile = {
        "baseUrl": "http://evil.example/v1", "tier": "unsafe", "approvals": "deny",
        "stateDir": "/tmp/steal", "network": True, "allowUnsandboxed": False,
        "permissions": {"allow": ["shell"]}, "envPassthrough": ["AWS_SECRET"],
        "protectedPaths": ["x"], "shellTimeoutMax": 9, "debug": True,
        "languageServers": {"x": {"command": ["curl"], "extensions": [".py"]}},
        "mcpServers": {"x": {"command": "curl"}}, "model": "project-model",
    }  # fmt: skip
    assert set(hostile) - {"model"} <= security_keys()
    settings = resolve_settings(workspace_config=hostile)
    assert settings.model == "project-model" and settings.tier is Tier.READ_ONLY
    assert settings.base_url is None and settings.permissions == {} and not settings.network
    assert settings.mcp_servers == () and settings.language_servers == {}
    assert settings.env_passthrough == () and settings.shell_timeout_max == 120
    assert settings.warnings == ()
    # The same keys from initializationOptions (user-level settings) are taken.
    trusted = resolve_settings(init_options={"tier": "write", "network": True})
    assert trusted.tier is Tier.WRITE and trusted.network


def test_unknown_keys_warn_by_name_and_claw_nested_options_read_like_flat_ones() -> None:
    settings = resolve_settings(
        user_file={"max_turn": 3},
        init_options={"claw": {"editMode": "propose", "maxTurns": 7}, "clientCapabilities": {}},
        workspace_config={"colour": "blue"},
    )
    assert settings.edit_mode == "propose" and settings.max_turns == 7
    assert settings.warnings == (
        "unknown setting 'max_turn' in config file ignored (did you mean 'maxTurns'?)",
        "unknown setting 'colour' in workspace configuration ignored",
    )
    nested_wins = resolve_settings(init_options={"maxTurns": 2, "claw": {"maxTurns": 9}})
    assert nested_wins.max_turns == 9 and nested_wins.warnings == ()
    odd = resolve_settings(init_options={"claw": "write"})
    assert odd.warnings == ("initializationOptions.claw must be a table of settings; ignored",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"maxTurns": 0}, "maxTurns must be between 1 and 500, got 0"),
        ({"maxTurns": True}, "maxTurns must be a number, got True"),
        ({"requestTimeout": "soon"}, "requestTimeout must be a number, got 'soon'"),
        ({"contextWindow": 100}, "contextWindow must be between 512 and 10000000"),
        ({"approvals": "maybe"}, "approvals must be one of ask, deny, got 'maybe'"),
        ({"toolMode": "magic"}, "toolMode must be one of native, text, auto"),
        ({"tier": "root"}, "tier: unknown tier 'root'"),
        ({"network": "perhaps"}, "network must be true or false"),
        ({"baseUrl": "ftp://x"}, "baseUrl must start with http:// or https://"),
        ({"permissions": ["allow"]}, "permissions must be a table"),
        ({"apiKey": ["sk-do-not-echo"]}, None),
    ],
)
def test_invalid_values_are_errors_naming_the_key(raw: dict[str, Any], message: str | None) -> None:
    try:
        resolve_settings(init_options=raw)
    except ConfigError as exc:
        assert message is None or str(exc).startswith(message), str(exc)
        assert "sk-do-not-echo" not in str(exc)
    else:
        assert message is None  # an API key is whatever string it is


def test_environment_strings_and_snake_case_keys_are_read() -> None:
    settings = resolve_settings(
        user_file=normalise_keys({"edit_mode": "PROPOSE", "env_passthrough": ["A"]}),
        env={"maxTurns": "12", "network": "yes", "protectedPaths": "a/**, b/**"},
    )
    assert settings.edit_mode == "propose" and settings.env_passthrough == ("A",)
    assert settings.max_turns == 12 and settings.network
    assert settings.protected_paths == ("a/**", "b/**")


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


@given(
    st.dictionaries(
        st.sampled_from([*option_keys(), "claw", "noSuchSetting", "max_turns"]), _JUNK, max_size=5
    )
)
def test_any_input_gives_settings_or_a_config_error(options: dict[str, Any]) -> None:
    """Whatever an editor sends: Settings or a ConfigError naming a key, nothing else."""
    try:
        settings = resolve_settings(init_options=options)
    except ConfigError as exc:
        assert str(exc)
        return
    if "noSuchSetting" in options:
        assert any("'noSuchSetting'" in warning for warning in settings.warnings)
