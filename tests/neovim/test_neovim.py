"""Runs each headless Neovim spec (tests/neovim/specs/*_spec.lua) against the real claw-lsp.

One pytest test per spec file. Each gets a fresh scripted model server (in-process), a fresh
workspace and state dir, and runs `nvim --headless --clean -u <spec>`; the spec exits 0 only
when all its cases passed. On failure the spec's own log is shown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_model import ScriptedModel

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PLUGIN_DIR = REPO / "editors" / "neovim"
SPECS = sorted((HERE / "specs").glob("*_spec.lua"))
SPEC_TIMEOUT_S = 120


def _find_nvim() -> str | None:
    beside_python = Path(sys.executable).parent / "nvim"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("nvim")


def _find_claw_lsp() -> str | None:
    beside_python = Path(sys.executable).parent / "claw-lsp"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("claw-lsp")


def _spec_env(tmp_path: Path, model: ScriptedModel, claw_lsp: str) -> dict[str, str]:
    # Start from the user's environment minus anything that could point claw at another
    # backend, config or state.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "CLAW_", "XDG_", "NVIM"))
    }
    for name in ("config", "state", "data", "cache"):
        (tmp_path / name).mkdir()
    env.update(
        {
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_MODEL": "scripted",
            "CLAW_STATE_DIR": str(tmp_path / "state" / "claw"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CLAW_PLUGIN_DIR": str(PLUGIN_DIR),
            "CLAW_TEST_DIR": str(HERE),
            "CLAW_LSP": claw_lsp,
            "CLAW_PYTHON": sys.executable,
            "CLAW_MODEL_ROOT": f"http://127.0.0.1:{model.port}",
            "CLAW_WORKSPACE": str(tmp_path / "ws"),
            "CLAW_TEST_LOG": str(tmp_path / "spec.log"),
            "CLAW_JEDI": str(Path(sys.executable).parent / "jedi-language-server"),
        }
    )
    return env


@pytest.mark.neovim
@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_spec(spec: Path, tmp_path: Path) -> None:
    nvim = _find_nvim()
    if nvim is None:
        pytest.skip("nvim not installed: run scripts/install-neovim-test-deps.sh .venv")
    claw_lsp = _find_claw_lsp()
    if claw_lsp is None:
        pytest.skip("claw-lsp is not installed in this environment")
    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    (workspace / "demo.py").write_text("x = 1\n")
    model = ScriptedModel().start()
    try:
        completed = subprocess.run(
            [nvim, "--headless", "--clean", "-u", str(spec)],
            cwd=workspace,
            env=_spec_env(tmp_path, model, claw_lsp),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SPEC_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        log = _read(tmp_path / "spec.log")
        pytest.fail(
            f"{spec.name} timed out after {SPEC_TIMEOUT_S}s\n--- spec log ---\n{log}\n"
            f"--- stderr ---\n{_tail(exc.stderr)}"
        )
    finally:
        model.stop()
    log = _read(tmp_path / "spec.log")
    assert completed.returncode == 0, (
        f"{spec.name} failed (rc={completed.returncode})\n--- spec log ---\n{log}\n"
        f"--- nvim stderr (tail) ---\n{_tail(completed.stderr)}\n"
        f"--- nvim stdout (tail) ---\n{_tail(completed.stdout)}"
    )
    assert "PASS" in log and "FAIL" not in log, log


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else "(no spec log written)"


def _tail(text: str | bytes | None, limit: int = 4000) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return text[-limit:]
