"""The ACP door's pure mappings: tool kinds and titles, plans from the todo list, stop reasons,
prompt blocks as @-mentions, history replay, and the streamed-text hold-back rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from acp import RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from claw_lsp.acp import translate
from claw_lsp.acp.egress import outgoing
from claw_lsp.acp.ports import _ready_part
from claw_lsp.acp.prompt_blocks import prompt_from_blocks
from claw_lsp.foundation.secrets import register_secret
from claw_lsp.permissions.paths import Workspace, make_root


def _workspace(tmp_path: Path) -> tuple[Workspace, object]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("on disk\n")
    root = make_root(tmp_path.as_uri(), "ws")
    return Workspace([root]), root


def test_tool_kinds_titles_and_locations(tmp_path: Path) -> None:
    assert translate.tool_kind("read_file") == "read"
    assert translate.tool_kind("edit_file") == "edit"
    assert translate.tool_kind("shell") == "execute"
    assert translate.tool_kind("grep") == "search"
    assert translate.tool_kind("mcp__fx__anything") == "other"
    assert translate.tool_title("shell", {"command": "pytest -q\nrm -rf /"}) == (
        "shell: pytest -q rm -rf /"
    )
    assert translate.tool_title("glob", None) == "glob"
    (location,) = translate.tool_locations(tmp_path, {"path": "src/a.py", "offset": 3})
    assert location.path == str(tmp_path / "src" / "a.py") and location.line == 3
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert [loc.path for loc in translate.tool_locations(tmp_path, {"patch": patch})] == [
        str(tmp_path / "x.py")
    ]


def test_stop_reasons_and_plans() -> None:
    assert translate.stop_reason("done") == "end_turn"
    assert translate.stop_reason("cancelled") == "cancelled"
    assert translate.stop_reason("maxTurns") == "max_turn_requests"
    entries = translate.plan_entries(
        {
            "todos": [
                {"id": "1", "content": "read", "status": "completed"},
                {"id": "2", "content": "edit", "status": "in_progress"},
                {"id": "3", "content": "test", "status": "weird"},
                "not a todo",
            ]
        }
    )
    assert [(e.content, e.status) for e in entries] == [
        ("read", "completed"),
        ("edit", "in_progress"),
        ("test", "pending"),
    ]


def test_a_handed_over_plan_and_its_tools() -> None:
    assert translate.stop_reason("plan") == "end_turn"  # a plan handed over ends the turn
    steps = translate.plan_steps("# Plan\n1. Rename greet\n- [x] read app.py\n  - a detail\n")
    assert [(e.content, e.status) for e in steps] == [
        ("Rename greet", "pending"),
        ("read app.py", "completed"),
    ]
    # A plan without a list is one step, never an empty plan (the client would show nothing).
    assert [e.content for e in translate.plan_steps("Just rename it.")] == ["Just rename it."]
    assert translate.tool_kind("exit_plan_mode") == "switch_mode"
    assert translate.tool_kind("task") == "other"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_plan_text_gives_a_plan_of_at_least_one_step(plan: str) -> None:
    steps = translate.plan_steps(plan)
    assert steps and all(e.status in ("pending", "completed") for e in steps)


def test_blocks_become_mentions_and_embedded_text_a_buffer(tmp_path: Path) -> None:
    workspace, root = _workspace(tmp_path)
    file_uri = (tmp_path / "src" / "a.py").as_uri()
    text, context, buffers = prompt_from_blocks(
        [
            TextContentBlock(type="text", text="explain"),
            ResourceContentBlock(type="resource_link", name="a.py", uri=file_uri),
            EmbeddedResourceContentBlock(
                type="resource",
                resource=TextResourceContents(uri=file_uri, text="unsaved buffer\n"),
            ),
            EmbeddedResourceContentBlock(
                type="resource",
                resource=TextResourceContents(uri="zed://rules/1", text="be terse"),
            ),
            ResourceContentBlock(type="resource_link", name="x", uri="file:///etc/passwd"),
        ],
        workspace,
        root,  # type: ignore[arg-type]
    )
    assert text.startswith("explain\n\n@src/a.py")
    assert text.count("@src/a.py") == 1  # linked and embedded: attached once
    assert "(linked: x <file:///etc/passwd>)" in text  # outside the folder: never read
    assert buffers == {tmp_path / "src" / "a.py": "unsaved buffer\n"}
    assert context.startswith('<attachment kind="resource" name="zed://rules/1">')
    assert "be terse" in context


def test_images_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    workspace, root = _workspace(tmp_path)
    with pytest.raises(RequestError) as caught:
        prompt_from_blocks(
            [ImageContentBlock(type="image", data="AAAA", mime_type="image/png")],
            workspace,
            root,  # type: ignore[arg-type]
        )
    assert "image content is not supported" in str(caught.value.data)


def test_replay_shows_what_the_user_typed_and_each_call() -> None:
    updates = translate.replay(
        [
            {
                "role": "user",
                "content": '<attachment kind="file" name="a.py">\nx\n</attachment>\n\nfix @a.py',
            },
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c1",
                        "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "Error: no such file"},
            {"role": "assistant", "content": "done"},
        ],
        Path("/ws"),
    )
    kinds = [u.session_update for u in updates]
    assert kinds == ["user_message_chunk", "tool_call", "tool_call_update", "agent_message_chunk"]
    assert updates[0].content.text == "fix @a.py"
    assert updates[1].title == "read_file: a.py" and updates[1].kind == "read"
    assert updates[2].status == "failed"


@settings(max_examples=100, deadline=None)  # a shared, loaded machine: no per-example deadline
@given(st.text(alphabet=st.sampled_from("ab ![]<>\n!x"), max_size=60))
def test_held_text_is_never_lost_or_reordered(text: str) -> None:
    ready, held = _ready_part(text)
    assert ready + held == text
    assert "\n" not in held  # only the unfinished last line is ever held back


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8))
def test_every_text_block_reaches_the_prompt(parts: list[str]) -> None:
    workspace = Workspace([make_root(Path("/tmp").as_uri(), "tmp")])
    blocks = [TextContentBlock(type="text", text=p) for p in parts]
    text, context, buffers = prompt_from_blocks(blocks, workspace, workspace.roots[0])
    assert text == "\n".join(p for p in parts if p) and context == "" and buffers == {}


def test_egress_masks_every_frame_but_the_file_write() -> None:
    register_secret("sk-unit-EGRESS-0123456789")
    update = {
        "jsonrpc": "2.0",
        "method": "session/update",
        "params": {"update": {"rawInput": {"content": "k=sk-unit-EGRESS-0123456789"}}},
    }
    assert "sk-unit-EGRESS" not in json.dumps(outgoing(update))
    error = {"jsonrpc": "2.0", "id": 3, "error": {"data": {"m": "sk-unit-EGRESS-0123456789"}}}
    assert "sk-unit-EGRESS" not in json.dumps(outgoing(error))
    write = {
        "jsonrpc": "2.0",
        "id": 4,
        "method": "fs/write_text_file",
        "params": {"path": "/ws/.env", "content": "KEY=sk-unit-EGRESS-0123456789"},
    }
    assert outgoing(write) is write  # the user's file gets what the edit says
    plain = {"jsonrpc": "2.0", "method": "session/update", "params": {"x": "hello"}}
    assert outgoing(plain) is plain
