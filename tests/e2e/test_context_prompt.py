"""What the server really sends: the exact first user message, a byte-stable prefix across a
multi-step session, nested instruction files mid-turn, and /context against the wire."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from claw_lsp.context.rules_files import NESTED_RULES_PREAMBLE, RULES_PREAMBLE
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path, state_dir: Path) -> dict[str, Path]:
    """A repo with the workspace one level below its root, user files, nested and imported
    files, a nested git root, an import cycle and an import pointing outside."""
    repo = tmp_path / "repo"
    ws = repo / "ws"
    home = tmp_path / "home"
    (repo / ".git").mkdir(parents=True)
    write(tmp_path / "CLAUDE.md", "outside the repository: never sent")
    write(home / ".claude" / "CLAUDE.md", "user rule")
    write(state_dir / "xdg-config" / "claw-lsp" / "AGENTS.md", "user agents rule")
    write(repo / "AGENTS.md", "repo rule")
    write(ws / "CLAUDE.md", "ws rule @docs/style.md @../../secret.md")
    write(ws / "docs" / "style.md", "style rule @../CLAUDE.md")  # a cycle back
    write(tmp_path / "secret.md", "outside the workspace: never sent")
    write(ws / "app" / "CLAUDE.local.md", "app local rule")
    write(ws / "app" / "main.py", "def main():\n    return 1\n")
    write(ws / "lib" / "AGENTS.md", "lib rule")
    write(ws / "lib" / "util.py", "X = 1\n")
    write(ws / "vendor" / ".git", "gitdir: elsewhere")  # a nested git root
    write(ws / "vendor" / "CLAUDE.md", "vendor rule")
    write(ws / "vendor" / "v.py", "V = 1\n")
    return {"ws": ws, "home": home}


def frame(path: str, scope: str, body: str) -> str:
    return f'<instructions-file path="{path}" scope="{scope}">\n{body}\n</instructions-file>'


async def test_first_request_is_exactly_the_expected_messages(
    model: ScriptedModel, tree: dict[str, Path], state_dir: Path
) -> None:
    ws = tree["ws"]
    model.add({"text": "ok"})
    env = server_env(model.base_url, state_dir, HOME=str(tree["home"]))
    claw = await start_claw([ws], env)
    try:
        uri = claw.open(ws / "app" / "main.py")
        cursor = {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}}
        await claw.ask("why 1?", uri=uri, range=cursor)
    finally:
        await claw.client.shutdown_session()
    (request,) = model.chat_requests()
    system, user = request["messages"]
    assert system["role"] == "system" and "claw" in system["content"]
    assert user["role"] == "user"
    expected = (
        "\n\n".join(
            [
                RULES_PREAMBLE,
                frame("~/.claude/CLAUDE.md", "user", "user rule"),
                _xdg_frame(state_dir, ws),
                frame("../AGENTS.md", "project", "repo rule"),
                frame(
                    "CLAUDE.md",
                    "project",
                    "ws rule @docs/style.md @../../secret.md\n"
                    "[import skipped: @../../secret.md is outside the workspace]",
                ),
                frame(
                    "docs/style.md",
                    "import",
                    "style rule @../CLAUDE.md\n"
                    "[import skipped: @../CLAUDE.md would import itself (cycle)]",
                ),
                frame("app/CLAUDE.local.md", "nested", "app local rule"),
            ]
        )
        + "\n\n"
        + "\n".join(
            [
                "<editor-context>",
                "Workspace folders: ws",
                "Active file: app/main.py [python]",
                "Cursor at line 2, column 5",
                "Lines 1-3 around the cursor:",
                "```",
                "     1| def main():",
                ">    2|     return 1",
                "     3| ",
                "```",
                "</editor-context>",
            ]
        )
        + "\n\nwhy 1?"
    )
    assert user["content"] == expected


def _xdg_frame(state_dir: Path, ws: Path) -> str:
    label = os.path.relpath(state_dir / "xdg-config" / "claw-lsp" / "AGENTS.md", ws.resolve())
    return frame(label, "user", "user agents rule")


def read(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


async def test_prefix_is_byte_stable_and_nested_rules_arrive_mid_turn(
    model: ScriptedModel, tree: dict[str, Path], state_dir: Path
) -> None:
    ws = tree["ws"]
    model.add(
        read("lib/util.py"),
        {"tool_calls": [{"name": "list_dir", "arguments": {"path": "."}}]},
        read("vendor/v.py"),
        {"tool_calls": [{"name": "grep", "arguments": {"pattern": "X"}}]},
        {"text": "done", "usage": {"prompt_tokens": 1500, "completion_tokens": 3}},
        {"text": "second turn"},
    )
    env = server_env(model.base_url, state_dir, HOME=str(tree["home"]))
    claw = await start_claw([ws], env)
    try:
        await claw.ask("look around")
        await claw.ask("again")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert len(requests) == 6
    first_system = json.dumps(requests[0]["messages"][0])
    first_tools = json.dumps(requests[0]["tools"])
    for previous, current in itertools.pairwise(requests):
        assert json.dumps(current["messages"][0]) == first_system
        assert json.dumps(current["tools"]) == first_tools
        # Append-only: each request starts with the previous one's messages, byte for byte.
        before = previous["messages"]
        assert json.dumps(current["messages"][: len(before)]) == json.dumps(before)
    # lib/AGENTS.md came right after the read of lib/util.py, as a user-role message, once.
    second = requests[1]["messages"]
    assert [m["role"] for m in second[-3:]] == ["assistant", "tool", "user"]
    assert second[-1]["content"].startswith(NESTED_RULES_PREAMBLE)
    assert frame("lib/AGENTS.md", "nested", "lib rule") in second[-1]["content"]
    everything = json.dumps(requests[-1]["messages"])
    assert everything.count("lib rule") == 1
    # vendor/ is a nested git root, but still inside the workspace: its file is nested context.
    assert everything.count("vendor rule") == 1
    assert "never sent" not in everything
    # The second turn's user message carries no instruction files again.
    assert requests[5]["messages"][-1] == {
        "role": "user",
        "content": "<editor-context>\nWorkspace folders: ws\n</editor-context>\n\nagain",
    }


async def test_context_command_counts_what_the_server_received(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "CLAUDE.md").write_text('rules ✓ "quoted"\n')
    # 1,500 tokens for ~7,000 characters: a plausible ratio (the calibration clamps at 8.0).
    model.add(read("app.py"), {"text": "final ✓", "usage": {"prompt_tokens": 1500}})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        uri = claw.open(workspace / "app.py")
        result = await claw.ask("explain", uri=uri)
        context = await claw.ask("/context")
    finally:
        await claw.client.shutdown_session()
    assert context["stopReason"] == "local" and context["session"] == result["session"]
    assert len(model.chat_requests()) == 2  # /context sent nothing
    last = model.chat_requests()[-1]
    reply = {"role": "assistant", "content": "final ✓"}
    sent = sum(len(json.dumps(m, ensure_ascii=False)) for m in [*last["messages"], reply])
    sent += len(json.dumps(last["tools"], ensure_ascii=False))
    text = context["text"]
    total = re.search(r"total\s+(\d+) tokens\s+(\d+) chars", text)
    assert total is not None, text
    assert int(total.group(2)) == sent  # the next request = the last one + the reply
    # Calibrated on the backend's report for the last request, so the estimate of the last
    # request itself matches it, and the total stays within the stated 10%.
    assert "calibrated on the backend's reported usage (+/- 10%)" in text
    assert "the backend reported 1500 prompt tokens" in text
    assert abs(int(total.group(1)) - 1500) <= 0.10 * 1500 + 10
    row = re.compile(r"  (.+?)\s+\d+ tokens\s+(\d+) chars")
    rows = {m.group(1).strip(): int(m.group(2)) for m in row.finditer(text)}
    assert rows["rules files"] > 0 and rows["editor context"] > 0 and rows["history"] > 0
    assert "Window: 16384 tokens (default" in text
