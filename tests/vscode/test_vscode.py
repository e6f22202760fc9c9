"""The VS Code extension, end to end inside real VS Code (code-server 4.100.3 = Code 1.100.3).

One code-server session is shared by the tests of this module: it installs the freshly built .vsix,
the extension starts the real `claw-lsp`, which talks to the scripted model; playwright-core
drives Debian's Chromium like a user (palette, input box, notification buttons, the Claw view,
Ctrl+Z) and records buffer texts and view text, which the tests below assert on.
Needs `scripts/install-vscode-test-deps.sh` (apt chromium + libkrb5-dev, npm code-server and
playwright-core); without it the tests are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.vscode.harness import (
    EXTENSION_DIR,
    EXTRA_SCREENSHOTS,
    SCREENSHOT_TARGET,
    _messages_text,
    _require_dependencies,
    _scenario,
)

pytestmark = pytest.mark.vscode


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
