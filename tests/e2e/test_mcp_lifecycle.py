"""MCP server lifecycle through the real server: lazy start, crash and restart, list_changed
between turns, timeouts, cancellation forwarded, start failures, everything stopped on exit."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.mcp import calls_of, recorded, stdio_entry, tool_names, until
from tests.support.scripted_model import ScriptedModel

ALLOW_FX = {"allow": ["mcp__fx__*"]}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
    return True


def _notices(recorder: object) -> list[str]:
    return [e["message"] for e in recorder.events if e["kind"] == "notice"]  # type: ignore[attr-defined]


async def test_lazy_start_crash_mid_call_restart_next_turn_and_stop_on_exit(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("mcp__fx__crash"),
        call("mcp__fx__echo", text="same turn"),
        {"text": "first turn over"},
        call("mcp__fx__echo", text="again"),
        {"text": "second turn over"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": stdio_entry(record)}, "permissions": ALLOW_FX},
    )
    try:
        status = await claw.ask("/status")  # a slash command starts no server
        await asyncio.sleep(1.0)
        not_started = recorded(record, "start")
        first = await claw.ask("crash it")
        second = await claw.ask("try again")
    finally:
        await claw.client.shutdown_session()
    assert status["stopReason"] == "local" and not_started == []
    assert first["stopReason"] == "done" and second["stopReason"] == "done"
    crashed, same_turn, again = tool_results(model)
    assert crashed.startswith("Error: the MCP server fx stopped during the call")
    assert "is not running" in same_turn and "restarted on the next turn" in same_turn
    assert again == "echo: again"
    starts = recorded(record, "start")
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"]
    (notice,) = [n for n in _notices(claw.recorder) if "MCP server fx stopped" in n]
    assert "tries again on the next turn" in notice
    assert any("is running again" in n for n in _notices(claw.recorder))
    # The tools stayed in the first turn's requests (stable prefix), and are there again.
    requests = model.chat_requests()
    assert all("mcp__fx__echo" in tool_names(r) for r in requests)
    # Stopped on exit: shutdown stopped the live server's process.
    assert await until(lambda: not _alive(starts[1]["pid"]), 15)


async def test_list_changed_is_applied_between_turns_only(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("mcp__fx__grow"),
        call("mcp__fx__echo", text="x"),
        {"text": "grown"},
        call("mcp__fx__extra_tool"),
        {"text": "used it"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": stdio_entry(record)}, "permissions": ALLOW_FX},
    )
    try:
        await claw.ask("grow")
        await claw.ask("use the new tool")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert len(requests) == 5
    assert ["mcp__fx__extra_tool" in tool_names(r) for r in requests] == [
        False,
        False,
        False,  # within the turn the list stays as it was, even after the notification
        True,
        True,
    ]
    assert tool_results(model)[-1] == "extra"
    assert [c["tool"] for c in recorded(record)] == ["grow", "echo", "extra_tool"]


async def test_cancelling_the_turn_cancels_the_request_on_the_server(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(call("mcp__fx__slow", seconds=120), {"text": "never"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": stdio_entry(record)}, "permissions": ALLOW_FX},
    )
    try:
        request = asyncio.ensure_future(claw.ask("wait"))
        assert await until(lambda: calls_of(record, "slow"), 60)
        await claw.command("claw.cancel", {})
        result = await asyncio.wait_for(request, 15)
        cancelled = await until(lambda: recorded(record, "cancelled"), 15)
        follow_up = await claw.ask("/mcp")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "cancelled"
    assert cancelled, "notifications/cancelled must reach the server"
    assert recorded(record, "done") == []
    assert "fx" in follow_up["text"] and "ready" in follow_up["text"]  # still serving


async def test_a_request_past_mcp_timeout_is_a_tool_error_and_is_cancelled(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(call("mcp__fx__slow", seconds=120), call("mcp__fx__echo", text="ok"), {"text": "."})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={
            "mcpServers": {"fx": stdio_entry(record)},
            "permissions": ALLOW_FX,
            "mcpTimeout": 3,
        },
    )
    try:
        result = await claw.ask("wait")  # the start has a longer deadline than a request
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done"
    timed_out, after = tool_results(model)
    assert "did not answer within 3 s (mcpTimeout)" in timed_out
    assert after == "echo: ok"
    assert await until(lambda: recorded(record, "cancelled"), 10)


async def test_a_server_that_cannot_start_gives_one_notice_and_the_turn_goes_on(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add({"text": "one"}, {"text": "two"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"bad": {"command": str(tmp_path / "no-such-server")}}},
    )
    try:
        first = await claw.ask("hello")
        second = await claw.ask("again")
        status = await claw.ask("/mcp")
    finally:
        await claw.client.shutdown_session()
    assert first["stopReason"] == second["stopReason"] == "done"
    notices = [n for n in _notices(claw.recorder) if "MCP server bad" in n]
    assert len(notices) == 1, notices
    assert "failed to start: command not found" in notices[0]
    assert "bad" in status["text"] and "failed" in status["text"]
    assert "command not found" in status["text"]
    assert not any(n.startswith("mcp__") for n in tool_names(model.chat_requests()[0]))
