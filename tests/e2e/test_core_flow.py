"""The core flow through the real server process, the real openai client and a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

from lsprotocol import types

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def read_call(path: str) -> dict:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def edit_call(path: str, old: str, new: str) -> dict:
    return {
        "tool_calls": [
            {"name": "edit_file", "arguments": {"path": path, "old_text": old, "new_text": new}}
        ]
    }


async def test_ask_reads_edits_and_answers(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        read_call("app.py"),
        edit_call("app.py", "'hello '", "'hi '"),
        {"text": "Changed the greeting."},
    )
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    try:
        uri = claw.open(workspace / "app.py", version=5)
        result = await claw.ask("make the greeting shorter", uri=uri)
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    assert result["text"] == "Changed the greeting."
    assert result["toolCalls"] == 2
    assert result["edits"] == [{"uri": uri, "applied": True}]
    # The edit reached the editor as a versioned, minimal TextDocumentEdit.
    (edit,) = claw.recorder.edits
    assert edit.label == "claw: edit_file app.py"
    (doc_edit,) = edit.edit.document_changes
    assert doc_edit.text_document.version == 5
    (text_edit,) = doc_edit.edits
    assert text_edit.new_text in ("hi", "i") or len(text_edit.new_text) <= 3
    # The tool result went back to the model in the next request.
    requests = model.chat_requests()
    assert len(requests) == 3
    tool_messages = [m for m in requests[1]["messages"] if m["role"] == "tool"]
    assert "return 'hello ' + name" in tool_messages[-1]["content"]
    assert "Applied the change to app.py" in requests[2]["messages"][-1]["content"]
    # The system prompt and tools are identical on every request (prefix caching).
    assert all(r["messages"][0] == requests[0]["messages"][0] for r in requests)
    assert all(r["tools"] == requests[0]["tools"] for r in requests)
    # The session is on disk, with its header, and holds no secret.
    files = list(state_dir.glob("folders/*/sessions/*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[0]["folderUri"] == workspace.as_uri()
    assert lines[-1]["type"] == "turn" and lines[-1]["stopReason"] == "done"
    assert "sk-test-SECRET" not in files[0].read_text()
    # Events arrived in order.
    kinds = claw.recorder.kinds()
    assert kinds.index("toolCall") < kinds.index("toolResult") < kinds.index("edit")
    assert kinds[-1] == "done"


async def test_unopened_file_edit_has_null_version_and_new_file_is_created(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        read_call("app.py"),
        edit_call("app.py", "hello", "hey"),
        {
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": "pkg/new.py", "content": "X = 1\n"}}
            ]
        },
        {"text": "ok"},
    )
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    try:
        result = await claw.ask("go")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    first, second = claw.recorder.edits
    assert first.edit.document_changes[0].text_document.version is None
    create, text_edit = second.edit.document_changes
    assert isinstance(create, types.CreateFile) and create.uri.endswith("pkg/new.py")
    assert (workspace / "pkg" / "new.py").read_text() == "X = 1\n"
    assert "hey" in (workspace / "app.py").read_text()


async def test_backend_down_gives_clear_error_and_server_keeps_answering(
    workspace: Path, state_dir: Path
) -> None:
    claw = await start_claw([workspace], server_env("http://127.0.0.1:9/v1", state_dir))
    try:
        result = await claw.ask("hello")
        assert result["stopReason"] == "error"
        assert "cannot reach the model backend" in result["text"]
        assert "sk-test" not in json.dumps(result)
        sessions = await claw.command("claw.sessions")
        assert len(sessions) == 1
    finally:
        await claw.client.shutdown_session()
