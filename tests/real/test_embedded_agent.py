"""The main job end to end on the real embedded backend: an editor asks claw-lsp with nothing
configured, claw-lsp starts llama.cpp with SmolLM2-135M, and an answer comes back. The model is
too weak to judge: the test asserts the path works and nothing is left running."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claw_lsp.llm.embedded import find_embedded_model
from tests.support.lsp import start_claw

pytestmark = pytest.mark.llama


def _no_backend_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CLAW_"))}
    env["CLAW_STATE_DIR"] = str(state_dir)
    env["XDG_CONFIG_HOME"] = str(state_dir / "xdg")
    return env


@pytest.fixture
def embedded() -> None:
    if find_embedded_model() is None:
        pytest.skip("the embedded model is not installed (scripts/install-local.sh .venv)")


def _llama_servers(state_dir: Path) -> list[str]:
    """The llama.cpp servers started for this test (their environment names its state dir):
    other suites on the machine may run their own."""
    marker = f"CLAW_STATE_DIR={state_dir}".encode()
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if b"llama_cpp.server" not in fh.read():
                        continue
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    if marker in fh.read().split(b"\0"):
                        out.append(pid)
            except OSError:
                continue
    return out


async def _gone(state_dir: Path, within_s: float = 10.0) -> bool:
    """Whether this test's llama.cpp servers end once claw-lsp has exited (the process group
    is signalled on exit; on a loaded machine the kill takes a moment to land)."""
    deadline = time.monotonic() + within_s
    while _llama_servers(state_dir):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def test_editor_ask_on_the_embedded_backend(
    embedded: None, workspace: Path, state_dir: Path
) -> None:
    claw = await start_claw([workspace], _no_backend_env(state_dir), init_options={"maxTurns": 3})
    try:
        status = await claw.command("claw.status")
        assert status["backend"]["embedded"] is True
        result = await claw.ask("Say hello.")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] in ("done", "maxTurns"), result
    assert result["text"].strip() or result["toolCalls"]
    assert await _gone(state_dir), "the embedded server must stop with claw-lsp"


def test_cli_ask_on_the_embedded_backend(embedded: None, workspace: Path, state_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "Say hello.", "--folder", str(workspace)],
        env=_no_backend_env(state_dir),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_quick_start_question_attaches_the_readme(
    embedded: None, workspace: Path, state_dir: Path
) -> None:
    """README Quick start: the default question mentions README.md, the real file is attached
    (stderr says so) and the demo model answers within its 4,096-token window."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    (workspace / "README.md").write_text(readme.read_text())
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "What is this project, according to @README.md?",
         "--folder", str(workspace)],
        env=_no_backend_env(state_dir),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "attached @README.md (file" in done.stderr
    assert done.stdout.strip()
