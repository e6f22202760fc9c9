"""Issue 22: the per-turn tool-call cap is the `maxToolCalls` setting (default 300); the turn
stops with a message naming it, and `maxTurns` keeps counting model calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claw_lsp.config import ConfigError, options_from_env, resolve_settings
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def _reads(*paths: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": p}} for p in paths]}


async def test_the_turn_stops_at_max_tool_calls_and_says_which_setting(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    for name in "abcde":
        (workspace / f"{name}.py").write_text(f"{name.upper()} = 1\n")
    # Two model calls of two tool calls each, then a third: maxTurns (5) is never reached.
    model.add(_reads("a.py", "b.py"), _reads("c.py", "d.py"), _reads("e.py"), {"text": "no"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"maxToolCalls": 3, "maxTurns": 5},
    )
    try:
        result = await claw.ask("read everything")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "maxTurns", result
    assert "maxToolCalls" in result["text"] and "3 tool calls" in result["text"], result
    assert len(model.chat_requests()) == 2  # stopped before a third model call
    assert result["toolCalls"] == 4  # a, b, c ran; d was refused by the limit


def test_the_default_and_the_bounds() -> None:
    assert resolve_settings(env={}).max_tool_calls == 300
    from_env = options_from_env({"CLAW_MAX_TOOL_CALLS": "40"})
    assert resolve_settings(env=from_env).max_tool_calls == 40
    for bad in (0, 10_001, "many"):
        with pytest.raises(ConfigError, match="maxToolCalls"):
            resolve_settings(env={}, overrides={"maxToolCalls": bad})
