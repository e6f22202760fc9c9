"""Issue 22: one fsync per agent step, and a kill loses at most the step in flight.

The turn runs through the real headless service, the real openai client and the scripted
server; os.fsync is observed (not replaced) to count the syncs of the session file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from claw_lsp.cli import build_parser
from claw_lsp.headless import build_service
from tests.support.lsp import server_env
from tests.support.scripted_model import ScriptedModel

STEPS = 4


def _read(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def _session_lines(state_dir: Path) -> list[dict[str, Any]]:
    (path,) = state_dir.glob("folders/*/sessions/*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_one_fsync_of_the_session_file_per_step(
    model: ScriptedModel, workspace: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claw_lsp.agent.turn import Prompt

    for number in range(STEPS):
        (workspace / f"m{number}.py").write_text(f"M = {number}\n")
    model.add(*[_read(f"m{n}.py") for n in range(STEPS)], {"text": "read them all"})
    for key, value in server_env(model.base_url, state_dir).items():
        monkeypatch.setenv(key, value)
    synced: list[str] = []
    real_fsync = os.fsync

    def observed(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", observed)
    args = build_parser().parse_args(["ask", "read", "--folder", str(workspace)])
    service, _ = build_service(args, {})
    try:
        result = await service.submit(Prompt(text="read every module", session="new"))
    finally:
        await service.aclose()
        await service.models.close()
    assert result["stopReason"] == "done", result
    requests = len(model.chat_requests())
    assert requests == STEPS + 1
    session_syncs = [p for p in synced if p.endswith(".jsonl")]
    # One per model request (the step before it: user message, then call + result) and one
    # for the turn record; the session's creation syncs its header once.
    assert len(session_syncs) == requests + 2, session_syncs
    kinds = [r["type"] for r in _session_lines(state_dir)]
    assert kinds.count("message") == 1 + 2 * STEPS + 1


def test_a_kill_mid_turn_loses_no_finished_step(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    for number in range(STEPS):
        (workspace / f"m{number}.py").write_text(f"M = {number}\n")
    # The request after the last read stalls: the process is killed while that step is in flight.
    model.add(*[_read(f"m{n}.py") for n in range(STEPS)], {"stall": 60})
    process = subprocess.Popen(
        [sys.executable, "-m", "claw_lsp", "ask", "read", "--folder", str(workspace)],
        env=server_env(model.base_url, state_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(model.chat_requests()) < STEPS + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(model.chat_requests()) == STEPS + 1
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    messages = [r["message"] for r in _session_lines(state_dir) if r["type"] == "message"]
    roles = [m["role"] for m in messages]
    assert roles == ["user"] + ["assistant", "tool"] * STEPS, roles
    assert [m["content"] for m in messages if m["role"] == "tool"][-1].endswith("M = 3")
