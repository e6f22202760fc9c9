"""Issue 22: one connection per backend. The scripted server streams with chunked encoding and
keeps the connection open (as vLLM, llama.cpp and Ollama do) and counts connections; claw
reads each stream to its end after [DONE], so the pooled connection carries every request."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


@pytest.fixture
def keep_alive() -> Iterator[ScriptedModel]:
    server = ScriptedModel(keep_alive=True).start()
    yield server
    server.stop()


def _read(path: str) -> dict:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def _chat_connections(model: ScriptedModel) -> set[int]:
    return set(model.request_connections)


async def test_one_connection_for_every_step_and_turn_over_lsp(
    keep_alive: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "b.py").write_text("B = 2\n")
    keep_alive.add(_read("app.py"), _read("b.py"), {"text": "read both"})
    keep_alive.add(_read("app.py"), {"text": "again"})
    claw = await start_claw([workspace], server_env(keep_alive.base_url, state_dir))
    try:
        first = await claw.ask("read the files")
        second = await claw.ask("once more")
    finally:
        await claw.client.shutdown_session()
    assert first["stopReason"] == "done", first
    assert second["stopReason"] == "done", second
    assert len(keep_alive.chat_requests()) == 5
    assert len(_chat_connections(keep_alive)) == 1, keep_alive.request_connections


async def test_a_body_that_goes_on_after_done_costs_the_connection_not_the_turn(
    keep_alive: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    # 1 MB of comments after [DONE]: the bounded drain gives up, the next request reconnects.
    keep_alive.add({**_read("app.py"), "trailing_bytes": 1_000_000}, {"text": "fine"})
    claw = await start_claw([workspace], server_env(keep_alive.base_url, state_dir))
    try:
        result = await claw.ask("read app.py")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    assert result["text"] == "fine"
    connections = keep_alive.request_connections
    assert len(connections) == 2 and connections[0] != connections[1], connections


def test_one_connection_per_turn_from_the_cli(
    keep_alive: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    keep_alive.add(_read("app.py"), _read("app.py"), {"text": "ok"})
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "read", "--folder", str(workspace), "--json"],
        env=server_env(keep_alive.base_url, state_dir),
        text=True,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert len(keep_alive.chat_requests()) == 3
    assert len(_chat_connections(keep_alive)) == 1, keep_alive.request_connections
