"""Issue 22: the model client is imported and built in the background right after
`initialize` answers, so the first `claw.ask` does not wait for it; the warm-up contacts no
backend. The real server process, with its log in a file."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from claw_lsp.llm.warm import WARM_LOG_LINE
from tests.support import lsp as lsp_support
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


async def test_the_model_client_is_warm_before_the_first_ask_and_nothing_was_sent(
    model: ScriptedModel, workspace: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = state_dir.parent / "server.log"
    command = [sys.executable, "-m", "claw_lsp", "--log-file", str(log)]
    monkeypatch.setattr(lsp_support, "SERVER_COMMAND", command)
    model.add({"text": "hello"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        for _ in range(1200):  # the warm-up runs on its own; a loaded machine may be slow
            if log.exists() and WARM_LOG_LINE in log.read_text():
                break
            await asyncio.sleep(0.1)
        assert WARM_LOG_LINE in log.read_text()
        assert model.seen == []  # warming sent nothing, to any backend
        result = await claw.ask("hi")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    assert result["text"] == "hello"


def test_the_cli_warms_the_client_while_it_sets_up(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    log = state_dir.parent / "cli.log"
    model.add({"text": "fine"})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "claw_lsp",
            "--log-file",
            str(log),
            "ask",
            "hi",
            "--folder",
            str(workspace),
        ],
        env=server_env(model.base_url, state_dir),
        text=True,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "fine" in done.stdout
    assert WARM_LOG_LINE in log.read_text()
