"""Project .mcp.json files need the user's approval (once per content); secrets never leave:
not the API key, not the MCP servers' env secrets, in requests, events or session files; a
user-level mcp.json in Claude Code's form works from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.mcp import REPO, recorded, stdio_entry, tool_names
from tests.support.scripted_model import ScriptedModel

API_KEY = "sk-test-SECRET-0123456789"  # what server_env() gives the server
SERVER_SECRET = "tok-FIXTURE-SECRET-9f8e7d6c5b"


async def test_project_mcp_json_is_asked_once_ignored_when_denied_asked_again_after_a_change(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    project = workspace / ".mcp.json"
    entry = stdio_entry(record, trusted=True, tools={"allow": ["*"]})
    project.write_text(json.dumps({"mcpServers": {"proj": entry}}))
    model.add({"text": "one"}, {"text": "two"}, call("mcp__proj__echo", text="hi"), {"text": "3"})
    env = server_env(model.base_url, state_dir)
    claw = await start_claw([workspace], env)
    claw.recorder.approval_answers += ["Deny", "Allow once", "Allow once"]
    try:
        await claw.ask("first")
        await claw.ask("second")
        asked_before_change = len(claw.recorder.approvals)
        started_before_change = recorded(record, "start")
        entry["args"] = [*entry["args"], "--tools", "1"]
        project.write_text(json.dumps({"mcpServers": {"proj": entry}}))
        await claw.ask("third")
    finally:
        await claw.client.shutdown_session()
    assert asked_before_change == 1 and started_before_change == []
    first_dialog, second_dialog, tool_call = claw.recorder.approvals
    for dialog in (first_dialog, second_dialog):
        assert str(project) in dialog.message and "tests.support.mcp_fixture" in dialog.message
        assert "proj: " in dialog.message and [a.title for a in dialog.actions or []] == [
            "Allow once",
            "Deny",
        ]
    requests = model.chat_requests()
    assert not any(n.startswith("mcp__proj__") for r in requests[:2] for n in tool_names(r))
    assert "mcp__proj__tool_000" in tool_names(requests[2])
    # `trusted` from a project file is ignored: the read-only echo still asked.
    assert "mcp__proj__echo" in tool_call.message
    assert tool_results(model) == ["echo: hi"]

    # The answer is remembered for this content: a new server run does not ask again.
    model.add({"text": "four"})
    again = await start_claw([workspace], env)
    try:
        await again.ask("fourth")
    finally:
        await again.client.shutdown_session()
    assert again.recorder.approvals == []
    assert "mcp__proj__tool_000" in tool_names(model.chat_requests()[-1])


async def test_secrets_never_reach_requests_events_or_session_files(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    entry = stdio_entry(record, env={"FIXTURE_TOKEN": SERVER_SECRET, "PLAIN": "visible"})
    model.add(
        call("mcp__fx__show_env", variable="FIXTURE_TOKEN"),
        call("mcp__fx__show_env", variable="OPENAI_API_KEY"),
        call("mcp__fx__show_env", variable="PLAIN"),
        {"text": "done"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": entry}, "permissions": {"allow": ["mcp__fx__*"]}},
    )
    try:
        await claw.ask("show me the environment")
        status = await claw.command("claw.mcpServers", {})
    finally:
        await claw.client.shutdown_session()
    token, api_key, plain = tool_results(model)
    assert token == "[REDACTED]"  # the server has it; the model never sees it
    assert api_key == "unset"  # the API key is not in the server's environment
    assert plain == "visible"
    requests = json.dumps(model.requests)  # bodies: the key belongs only in the auth header
    events = json.dumps(claw.recorder.events) + json.dumps(status)
    files = "".join(p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file())
    for secret in (API_KEY, SERVER_SECRET):
        assert secret not in requests
        assert secret not in events
        assert secret not in files
    assert any("may have put secrets" in e.get("message", "") for e in claw.recorder.events)


def test_user_mcp_json_in_claude_code_form_works_from_the_cli(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    config = state_dir / "xdg-config" / "claw-lsp"
    config.mkdir(parents=True)
    # The block as Claude Code users have it, pasted as it is.
    (config / "mcp.json").write_text(json.dumps({"mcpServers": {"fx": stdio_entry(record)}}))
    (config / "config.toml").write_text('[permissions]\nallow = ["mcp__fx__echo"]\n')
    model.add(call("mcp__fx__echo", text="from the cli"), {"text": "printed"})
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "echo it", "--folder", str(workspace)],
        env=server_env(model.base_url, state_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert tool_results(model) == ["echo: from the cli"]
    (start,) = recorded(record, "start")
    try:  # the CLI stopped the server when it exited
        Path(f"/proc/{start['pid']}").stat()
        alive = "Z" not in Path(f"/proc/{start['pid']}/stat").read_text().rsplit(")", 1)[1][:3]
    except OSError:
        alive = False
    assert not alive
