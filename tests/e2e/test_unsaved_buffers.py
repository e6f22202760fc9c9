"""PROTOCOL.md: tools that read see unsaved editor buffers. grep included (issue 9 follow-up)."""

from __future__ import annotations

from pathlib import Path

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def tool_results(model: ScriptedModel) -> list[str]:
    return [
        message["content"]
        for request in model.chat_requests()
        for message in request["messages"][-1:]
        if message["role"] == "tool"
    ]


def grep(pattern: str, **extra: object) -> dict[str, object]:
    return {"tool_calls": [{"name": "grep", "arguments": {"pattern": pattern, **extra}}]}


async def test_grep_searches_the_unsaved_buffer_instead_of_the_disk(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "pkg").mkdir()
    edited = workspace / "pkg" / "edited.py"
    edited.write_text("ONLY_ON_DISK = 1\nshared_name = 2\n")
    (workspace / "other.py").write_text("shared_name = 3\n")
    (workspace / "ignored").mkdir()
    (workspace / ".git").mkdir()  # rg honours .gitignore inside a repository
    (workspace / ".gitignore").write_text("ignored/\n")
    ignored = workspace / "ignored" / "gen.py"
    ignored.write_text("x = 1\n")
    model.add(
        grep("ONLY_IN_BUFFER"),
        grep("ONLY_ON_DISK"),
        grep("shared_name"),
        grep("ONLY_IN_BUFFER", path="pkg/edited.py"),
        grep("ONLY_IN_BUFFER", glob="*.txt"),
        grep("IGNORED_BUFFER"),
        {"text": "done"},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        claw.open(edited, text="shared_name = 2\n\nONLY_IN_BUFFER = 1\n")
        claw.open(workspace / "other.py")  # open, but the same as the disk
        claw.open(ignored, text="IGNORED_BUFFER = 1\n")  # gitignored: rg never searches it
        result = await claw.ask("search")
    finally:
        await claw.client.shutdown_session()
    assert result["text"] == "done"
    in_buffer, on_disk, shared, single, filtered, ignored_buffer = tool_results(model)
    assert in_buffer == "pkg/edited.py:3:ONLY_IN_BUFFER = 1"
    assert on_disk == "(no matches)"
    assert sorted(shared.splitlines()) == [
        "other.py:1:shared_name = 3",
        "pkg/edited.py:1:shared_name = 2",
    ]
    assert single == "pkg/edited.py:3:ONLY_IN_BUFFER = 1"
    assert filtered == "(no matches)"
    assert ignored_buffer == "(no matches)"
