"""The user message of a turn: instruction files once per session (nested ones when they
become relevant) and the budgeted editor context."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw_lsp.context.editor_context import (
    MAX_EDITOR_CONTEXT_CHARS,
    EditorContext,
    render_editor_context,
)
from claw_lsp.context.turn_context import (
    NestedRulesWatch,
    active_dir_for,
    build_user_message,
    nested_rules_message,
    sent_rules_labels,
)
from claw_lsp.permissions.paths import Root, Workspace


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Root:
    ws = (tmp_path / "ws").resolve()
    (ws / ".git").mkdir(parents=True)
    write(ws / "CLAUDE.md", "root rules")
    write(ws / "pkg" / "AGENTS.md", "pkg rules")
    write(ws / "pkg" / "mod.py", "x = 1\n")
    write(ws / "lib" / "deep" / "CLAUDE.md", "deep rules @../../shared.md")
    write(ws / "shared.md", "shared import")
    write(ws / "lib" / "deep" / "util.py", "y = 2\n")
    return Root(ws.as_uri(), "ws", ws, ws)


def ask(root: Root, history: list[dict], **kwargs: object) -> dict:
    message = build_user_message(
        "do it",
        editor_context="",
        root=root,
        history=history,
        home=root.real_path / "nohome",
        **kwargs,  # type: ignore[arg-type]
    )
    history.append(message)
    return message


def test_rules_go_once_and_nested_ones_when_relevant(root: Root) -> None:
    history: list[dict] = []
    first = ask(root, history)["content"]
    assert 'path="CLAUDE.md" scope="project"' in first and "root rules" in first
    assert "pkg rules" not in first and first.endswith("do it")
    # Same folder, next turn: nothing again.
    assert ask(root, history)["content"] == "do it"
    # The active document moves into pkg/: its AGENTS.md comes with that turn, once.
    moved = ask(root, history, active_dir=root.real_path / "pkg")["content"]
    assert 'path="pkg/AGENTS.md" scope="nested"' in moved and "root rules" not in moved
    assert ask(root, history, active_dir=root.real_path / "pkg")["content"] == "do it"
    assert sent_rules_labels(history) == {"CLAUDE.md", "pkg/AGENTS.md"}


def test_a_rules_file_created_mid_session_arrives_with_the_next_turn(root: Root) -> None:
    history: list[dict] = []
    ask(root, history)
    write(root.real_path / "AGENTS.md", "new agents file")
    assert "new agents file" in ask(root, history)["content"]


def test_nested_rules_of_worked_in_folders_mid_turn(root: Root) -> None:
    history: list[dict] = []
    ask(root, history)
    worked = [root.real_path / "lib" / "deep" / "util.py"]
    message = nested_rules_message(root, history, worked, home=root.real_path / "nohome")
    assert message is not None and message["role"] == "user"
    assert "More instruction files" in message["content"]
    assert 'path="lib/deep/CLAUDE.md" scope="nested"' in message["content"]
    assert 'path="shared.md" scope="import"' in message["content"]
    history.append(message)
    assert nested_rules_message(root, history, worked, home=root.real_path / "nohome") is None
    # Files at the workspace root are not "worked in a subtree": nothing mid-turn.
    assert nested_rules_message(root, [], [root.real_path / "x.py"]) is None


def test_the_per_step_watch_looks_again_when_a_new_folder_or_rules_file_is_worked(
    root: Root,
) -> None:
    """Issue 22: the watch searches only when the worked folders (or worked rules-named files)
    change; a rules file that appears in a folder already looked at by other means waits for
    the next turn's user message."""
    ws = root.real_path
    history: list[dict] = []
    ask(root, history)
    watch = NestedRulesWatch(home=ws / "nohome")
    worked = [ws / "lib" / "deep" / "util.py"]
    first = watch.message(root, history, worked)
    assert first is not None and 'path="lib/deep/CLAUDE.md" scope="nested"' in first["content"]
    history.append(first)
    # Another file in the same folder, and a rules file appearing there behind the agent's
    # back: the folder was looked at already, so no search and no message this step.
    write(ws / "lib" / "deep" / "AGENTS.md", "late deep rules")
    worked.append(ws / "lib" / "deep" / "more.py")
    assert watch.message(root, history, worked) is None
    # A new folder: searched, its rules arrive (and the late file of the folder before).
    worked.append(ws / "pkg" / "mod.py")
    second = watch.message(root, history, worked)
    assert second is not None
    assert 'path="pkg/AGENTS.md" scope="nested"' in second["content"]
    assert 'path="lib/deep/AGENTS.md" scope="nested"' in second["content"]
    assert "lib/deep/CLAUDE.md" not in second["content"]  # sent once
    history.append(second)
    assert watch.message(root, history, worked) is None
    # The agent writes a rules file into a folder it already worked in: looked at again.
    write(ws / "pkg" / "CLAUDE.local.md", "pkg local rules")
    worked.append(ws / "pkg" / "CLAUDE.local.md")
    third = watch.message(root, history, worked)
    assert third is not None and 'path="pkg/CLAUDE.local.md" scope="nested"' in third["content"]
    history.append(third)
    # Written behind the agent's back in a folder looked at: the next turn's message has it.
    write(ws / "pkg" / ".claude" / "CLAUDE.md", "pkg hidden rules")
    assert watch.message(root, history, worked) is None
    next_turn = ask(root, history, worked_paths=worked)["content"]
    assert 'path="pkg/.claude/CLAUDE.md" scope="nested"' in next_turn
    assert "late deep rules" not in next_turn  # sent once


def test_active_dir_only_inside_the_workspace(root: Root, tmp_path: Path) -> None:
    workspace = Workspace()
    workspace.add(root)
    inside = (root.real_path / "pkg" / "mod.py").as_uri()
    assert active_dir_for(workspace, inside) == root.real_path / "pkg"
    assert active_dir_for(workspace, (tmp_path / "elsewhere.py").as_uri()) is None
    assert active_dir_for(workspace, None) is None


def test_editor_context_excerpt_selection_and_budget() -> None:
    text = "".join(f"line {n}\n" for n in range(200))
    cursor = render_editor_context(
        EditorContext(
            folders=["ws"],
            active_path="a.py",
            language_id="python",
            active_text=text,
            unsaved=True,
            selection=(100, 2, 100, 2),
            open_documents=["a.py", "b.py", "b.py"],
        )
    )
    assert "Active file: a.py [python] (unsaved changes)" in cursor
    assert "Cursor at line 101, column 3" in cursor
    assert ">  101| line 100" in cursor and "   91| line 90" in cursor
    assert "line 89\n" not in cursor and "line 112" not in cursor
    assert cursor.count("b.py") == 1 and "Other open files: b.py" in cursor
    selected = render_editor_context(
        EditorContext(active_path="a.py", active_text="abc\ndef\n", selection=(0, 1, 1, 2))
    )
    assert "Selection (lines 1-2):\n```\nbc\nde\n```" in selected
    huge = render_editor_context(
        EditorContext(
            active_path="a.py",
            active_text="x" * 50_000,
            selection=(0, 0, 0, 50_000),
            diagnostics=[{"range": {"start": {"line": 0, "character": 0}}, "message": "m"}] * 30,
            open_documents=[f"f{n}.py" for n in range(40)],
        )
    )
    assert len(huge) <= MAX_EDITOR_CONTEXT_CHARS
    assert "[selection truncated: 12000 of 50000 characters]" in huge
    assert "(10 more not shown)" in huge and "(and 20 more)" in huge
    assert render_editor_context(EditorContext()) == ""
