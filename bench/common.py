"""Shared set-up: server commands, environments, workspaces, and a started server."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.driver import LspClient
from tests.support.scripted_model import ScriptedModel

REPO = Path(__file__).resolve().parent.parent
CLAW_COMMAND = [sys.executable, "-m", "claw_lsp"]
MINIMAL_COMMAND = [sys.executable, "-m", "bench.minimal_server"]
PROFILED_COMMAND = [sys.executable, "-m", "bench.profiled_server"]


@dataclass
class Scratch:
    """Per-run scratch space: every benchmark gets its own state dir under `root`."""

    root: Path

    def dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def server_env(base_url: str, state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CLAW_"))}
    env.update(
        {
            "OPENAI_BASE_URL": base_url,
            "OPENAI_MODEL": "scripted",
            "OPENAI_API_KEY": "sk-bench-not-a-secret",
            "CLAW_STATE_DIR": str(state_dir),
            "XDG_CONFIG_HOME": str(state_dir / "xdg-config"),
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(extra)
    return env


def small_workspace(root: Path, files: int = 40) -> Path:
    """A folder with app.py and `files` small modules (distinct reads avoid the repeat guard)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(
        "import os\n\n\ndef greet(name):\n    return 'hello ' + name\n\n\n"
        "def main():\n    print(greet(os.environ.get('USER', 'you')))\n"
    )
    for index in range(files):
        (root / f"mod_{index:02d}.py").write_text(
            f'"""Module {index}."""\n\n\ndef value_{index}() -> int:\n    return {index}\n'
        )
    return root


def read_call(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


@asynccontextmanager
async def running_claw(
    model: ScriptedModel,
    workspace: Path,
    state_dir: Path,
    *,
    init_options: dict[str, Any] | None = None,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[LspClient]:
    env = server_env(model.base_url, state_dir, **(extra_env or {}))
    client = await LspClient.spawn(
        command or CLAW_COMMAND, env=env, cwd=REPO, stderr_path=state_dir / "server.log"
    )
    try:
        await client.initialize([workspace], init_options)
        yield client
    finally:
        await client.close()


class TimedModel(ScriptedModel):
    """The scripted model, also noting when each request arrived (per-step timing)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.arrivals.append(time.perf_counter())
        super().record(body, headers)


@asynccontextmanager
async def scripted_model() -> AsyncIterator[TimedModel]:
    model = TimedModel().start()
    try:
        yield model
    finally:
        model.stop()
