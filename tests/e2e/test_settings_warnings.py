"""Unknown settings are named, not ignored in silence (issue 12): in the editor's log
(window/logMessage), `claw.status`, `/status` and `claw-lsp doctor`; options nested under `claw`
in initializationOptions count like flat ones."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def write_user_config(state_dir: Path, text: str) -> None:
    config = state_dir / "xdg-config" / "claw-lsp" / "config.toml"  # server_env's XDG_CONFIG_HOME
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)


async def test_unknown_keys_reach_the_log_and_status_and_nested_options_apply(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    write_user_config(state_dir, "maxTurnz = 3\n")
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"claw": {"editMode": "propose", "tier": "write"}, "reasoning": "high"},
    )
    try:
        status = await claw.command("claw.status", {"folder": workspace.as_uri()})
        slash = await claw.ask("/status")
        for _ in range(100):  # the log message is a notification: it may trail the answer
            if len(claw.recorder.logs) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await claw.client.shutdown_session()
    assert status["editMode"] == "propose" and status["tier"] == "write"
    expected = [
        "unknown setting 'maxTurnz' in config file ignored (did you mean 'maxTurns'?)",
        "unknown setting 'reasoning' in initializationOptions ignored",
    ]
    assert status["configWarnings"] == expected
    assert all(f"Settings: {warning}" in slash["text"] for warning in expected)
    logged = [log.message for log in claw.recorder.logs]
    assert all(any(warning in line for line in logged) for warning in expected), logged
    assert model.chat_requests() == []  # /status stays local


def test_doctor_lists_unknown_keys(model: ScriptedModel, workspace: Path, state_dir: Path) -> None:
    write_user_config(state_dir, 'baseUrl = "http://127.0.0.1:9/v1"\nmcp_server = {}\n')
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "doctor"],
        env=server_env(model.base_url, state_dir),
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
    )
    warning = "unknown setting 'mcp_server' in config file ignored (did you mean 'mcpServers'?)"
    assert f"Settings: {warning}" in done.stdout, done.stdout + done.stderr


async def test_a_bad_value_is_named_and_the_user_level_settings_stay(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"maxTurns": 9999}
    )
    try:
        status = await claw.command("claw.status", {"folder": workspace.as_uri()})
        with pytest.raises(JsonRpcException, match="maxTurns must be between 1 and 500"):
            await claw.ask("hello")  # a prompt is refused with the reason
    finally:
        await claw.client.shutdown_session()
    assert status["configError"] == "maxTurns must be between 1 and 500, got 9999"
    assert status["backend"]["baseUrl"] == model.base_url  # from the environment, kept
    assert any("maxTurns" in m.message for m in claw.recorder.messages)  # shown to the user
    assert model.chat_requests() == []
