"""The conversation view's chat input and toolbar inside real VS Code (issue 20): `@` and `/`
completion, chips, Enter, Up, the selection chip from the Ask keybinding, the command picker,
the inline diff and Undo turn, the tier picker. Same code-server run as test_vscode.py
(conftest.py); the scenarios are in harness.py and drive.mjs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.vscode.harness import _scenario, _user_messages

pytestmark = pytest.mark.vscode


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
