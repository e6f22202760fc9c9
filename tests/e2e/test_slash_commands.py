"""Every slash command through claw.ask and through the CLI: handled locally, no request
reaches the model server; a prompt that starts with a path goes to the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

WRITE = {"tool_calls": [{"name": "write_file", "arguments": {"path": "new.py", "content": "N\n"}}]}


async def test_every_slash_command_from_the_editor(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "CLAUDE.md").write_text("house rules\n")
    model.add(WRITE, {"text": "wrote it", "usage": {"prompt_tokens": 1200, "completion_tokens": 4}})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    out: dict[str, dict] = {}
    try:
        first = await claw.ask("create new.py")
        assert (workspace / "new.py").exists()
        sent_before = len(model.chat_requests())
        for command in [
            "/help", "/context", "/tools", "/memory", "/status", "/permissions", "/sessions",
            "/export", "/model", "/undo", "/frobnicate", "/resume", "/clear",
        ]:  # fmt: skip
            out[command] = await claw.ask(command)
        out["/resume id"] = await claw.ask(f"/resume {first['session']}")
        out["/model other"] = await claw.ask("/model other-model")
        out["/status after"] = await claw.ask("/status")
        sent_after = len(model.chat_requests())
        path_prompt = await claw.ask("/tmp/x is broken")
    finally:
        await claw.client.shutdown_session()
    assert sent_after == sent_before == 2  # no slash command reached the model server
    for command, result in out.items():
        assert result["stopReason"] == "local", command
        assert result["turn"] is None and result["usage"]["promptTokens"] == 0
    session = first["session"]
    text = {k: v["text"] for k, v in out.items()}
    assert all(f"/{name}" in text["/help"] for name in ["context", "compact", "export", "undo"])
    assert "tool schemas" in text["/context"] and "Window:" in text["/context"]
    assert "write_file   needs write     runs now" in text["/tools"]
    assert "shell        needs shell     asks for approval" in text["/tools"]
    assert str(workspace / "CLAUDE.md") in text["/memory"]
    assert "in this session" in text["/memory"]
    assert f"Session:  {session}" in text["/status"] and "Tier:     write" in text["/status"]
    assert "1 turns, 1200 prompt + 4 completion tokens" in text["/status"]
    assert "Tier: write" in text["/permissions"] and "Session grants: none" in text["/permissions"]
    assert session in text["/sessions"] and "1 turns" in text["/sessions"]
    assert "create new.py" in text["/export"] and text["/export"].startswith("# create new.py")
    assert text["/model"] == "Model: scripted"
    assert text["/undo"] == "Undid turn 1 (1 files)." and not (workspace / "new.py").exists()
    assert text["/frobnicate"].startswith("Unknown command /frobnicate. Commands: /help")
    assert text["/resume"].startswith("Usage: /resume")
    assert out["/clear"]["session"] not in (None, session)
    assert out["/resume id"]["session"] == session
    assert "Model:    other-model" in text["/status after"]
    # A prompt that starts with a path is a prompt, sent to the model (with the new model).
    assert path_prompt["stopReason"] != "local"
    last = model.chat_requests()[-1]
    assert last["model"] == "other-model"
    assert last["messages"][-1]["content"].endswith("/tmp/x is broken")


def cli(workspace: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", *args, "--folder", str(workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_slash_commands_from_the_cli(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    env = server_env(model.base_url, state_dir)
    model.add({"text": "hello from the model"})
    asked = cli(workspace, env, "say hello", "--json")
    assert asked.returncode == 0, asked.stderr
    session = json.loads(asked.stdout)["session"]
    status = cli(workspace, env, "/status")
    assert status.returncode == 0, status.stderr
    assert "Tier:     read-only" in status.stdout and f"Session:  {session}" in status.stdout
    listed = cli(workspace, env, "/sessions")
    assert session in listed.stdout and "say hello" in listed.stdout
    exported = cli(workspace, env, "/export", "--json")
    result = json.loads(exported.stdout)
    assert result["stopReason"] == "local" and "hello from the model" in result["text"]
    context = cli(workspace, env, "/context")
    assert "history" in context.stdout and "tokens" in context.stdout
    unknown = cli(workspace, env, "/nope")
    assert "Unknown command /nope" in unknown.stdout
    assert len(model.chat_requests()) == 1  # only "say hello" reached the model
