"""What the chat panes read beside their input (issue 20): `claw.models` lists the backend's
models with the current one, and `claw/status` / `claw.status` carry the context meter fields."""

from __future__ import annotations

from pathlib import Path

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


async def test_claw_models_lists_the_backend_models_and_the_current_one(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.models_payload = {
        "object": "list",
        "data": [{"id": "qwen-coder", "object": "model"}, {"id": "llama-8b"}, {"bad": 1}],
    }
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        listed = await claw.command("claw.models", {})
    finally:
        await claw.client.shutdown_session()
    # OPENAI_MODEL=scripted is configured but not listed: it comes first, marked current.
    assert listed == {"models": ["scripted", "qwen-coder", "llama-8b"], "current": "scripted"}


async def test_claw_models_survives_a_backend_that_cannot_list(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.models_payload = {"not": "a list"}
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        listed = await claw.command("claw.models", {})
    finally:
        await claw.client.shutdown_session()
    assert listed == {"models": ["scripted"], "current": "scripted"}


async def test_status_carries_the_context_meter_after_a_turn(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "hello", "usage": {"prompt_tokens": 1234, "completion_tokens": 5}})
    env = server_env(model.base_url, state_dir, CLAW_CONTEXT_WINDOW="8192")
    claw = await start_claw([workspace], env)
    try:
        before = await claw.command("claw.status", {})
        await claw.ask("hi")
        after = await claw.command("claw.status", {})
    finally:
        await claw.client.shutdown_session()
    assert before["contextTokens"] == 0 and before["contextWindow"] == 8192
    assert before["compactThreshold"] == 0.8
    assert after["contextTokens"] == 1234, "the backend's own count of the last request"
    # The notification sent when the turn ended (busy -> false) has the same fields.
    ended = [s for s in claw.recorder.statuses if s.get("busy") is False and s.get("contextTokens")]
    assert ended and ended[-1]["contextWindow"] == 8192
