"""Runs tests/emacs/suite.el in real batch Emacs with Debian's stock eglot 1.9 against the real
claw-lsp and the scripted model (one Emacs process; the suite's own specs log PASS/FAIL).

Install Emacs with scripts/install-emacs-test-deps.sh (apt: emacs-nox elpa-eglot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_model import ScriptedModel

HERE = Path(__file__).resolve().parent
SUITE_TIMEOUT_S = 240
HELLO = "# claw: greet loudly\ndef greet(name):\n    return 'hello ' + name\n"


def _env(tmp_path: Path, model: ScriptedModel, workspace: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "CLAW_", "XDG_", "EMACS"))
    }
    env.update(
        {
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_MODEL": "scripted",
            "CLAW_STATE_DIR": str(tmp_path / "state"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "HOME": str(tmp_path / "home"),
            "CLAW_PYTHON": sys.executable,
            "CLAW_MODEL_ROOT": f"http://127.0.0.1:{model.port}",
            "CLAW_WORKSPACE": str(workspace),
            "CLAW_TEST_LOG": str(tmp_path / "spec.log"),
        }
    )
    return env


@pytest.mark.emacs
def test_eglot_suite(tmp_path: Path) -> None:
    emacs = shutil.which("emacs")
    if emacs is None or not list(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot-*")):
        pytest.skip("emacs/eglot not installed: run scripts/install-emacs-test-deps.sh")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "home").mkdir()
    (workspace / "hello.py").write_text(HELLO)
    (workspace / "util.py").write_text("LIMIT = 1\n")
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    model = ScriptedModel().start()
    try:
        completed = subprocess.run(
            [emacs, "--batch", "-Q", "-l", str(HERE / "suite.el")],
            cwd=workspace,
            env=_env(tmp_path, model, workspace),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT_S,
            check=False,
        )
    finally:
        model.stop()
    log = (tmp_path / "spec.log").read_text() if (tmp_path / "spec.log").exists() else ""
    assert completed.returncode == 0, (
        f"rc={completed.returncode}\n--- spec log ---\n{log}\n"
        f"--- emacs stderr (tail) ---\n{completed.stderr[-6000:]}"
    )
    assert log.count("PASS ") == 5 and "FAIL" not in log, log
    tool_results = [
        m["content"]
        for request in model.chat_requests()
        for m in request["messages"]
        if m["role"] == "tool"
    ]
    # The JSON-RPC traffic as eglot logged it (its events buffer) is in spec.log.events.
    assert not any("unknown" in r or "rejected" in r for r in tool_results), tool_results
