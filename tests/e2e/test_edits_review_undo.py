"""Proposals, turn undo, edit conflicts and the unanswered applyEdit, through the real server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tests.support.lsp import NEOVIM_LIKE, VSCODE_LIKE, client_docs, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

PROFILES = pytest.mark.parametrize("caps", [VSCODE_LIKE, NEOVIM_LIKE], ids=["vscode", "neovim"])


def read(path: str) -> dict:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def edit(path: str, old: str, new: str) -> dict:
    return {
        "tool_calls": [
            {"name": "edit_file", "arguments": {"path": path, "old_text": old, "new_text": new}}
        ]
    }


@PROFILES
async def test_proposal_accepted_as_one_versioned_edit(
    caps: types.ClientCapabilities, model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        read("app.py"), edit("app.py", "hello", "howdy"), {"text": "proposed"}, {"text": "next"}
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=caps,
        init_options={"tier": "write"},
    )
    try:
        uri = claw.open(workspace / "app.py", version=3)
        result = await claw.ask("say howdy", uri=uri, editMode="propose")
        (entry,) = result["edits"]
        assert entry["applied"] is False and entry["proposal"]
        assert not claw.recorder.edits, "nothing applied before review"
        proposal = next(e for e in claw.recorder.events if e["kind"] == "proposal")
        assert "-    return 'hello ' + name" in proposal["diff"]
        assert "+    return 'howdy ' + name" in proposal["diff"]
        await asyncio.sleep(0.2)
        hints = claw.recorder.diagnostics.get(uri)
        assert hints and hints[0].severity == types.DiagnosticSeverity.Hint
        actions = await claw.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(1, 0), end=types.Position(1, 0)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        titles = [a.title for a in actions if "proposal" in a.title]
        assert titles == ["Claw: Accept proposal", "Claw: Reject proposal"]
        accept = actions[0].command
        outcome = await claw.command(accept.command, accept.arguments[0])
        assert outcome["applied"] is True
        # The model hears about the decision on the next turn.
        await claw.ask("thanks")
    finally:
        await claw.client.shutdown_session()
    (applied,) = claw.recorder.edits
    (doc_edit,) = applied.edit.document_changes
    assert doc_edit.text_document.version == 3
    if caps is VSCODE_LIKE:
        assert applied.edit.change_annotations["claw-proposal"].needs_confirmation is True
    else:
        assert not applied.edit.change_annotations
    assert client_docs(claw.client)[uri]["text"].count("howdy") == 1
    last = model.chat_requests()[-1]["messages"][-1]["content"]
    assert "accepted" in last


async def test_stale_proposal_is_refused_and_reject_is_reported(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        read("app.py"), edit("app.py", "hello", "howdy"), {"text": "proposed"}, {"text": "ok"}
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"tier": "write", "editMode": "propose"},
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)
        result = await claw.ask("say howdy", uri=uri)
        proposal_id = result["edits"][0]["proposal"]
        claw.change(uri, "# the user typed\n" + (workspace / "app.py").read_text(), 2)
        await asyncio.sleep(0.2)
        outcome = await claw.command("claw.acceptProposal", {"proposal": proposal_id})
        assert outcome["applied"] is False and "changed" in outcome["message"]
        with pytest.raises(JsonRpcInvalidParams):
            await claw.command("claw.acceptProposal", {"proposal": proposal_id})
        await claw.ask("and now?")
    finally:
        await claw.client.shutdown_session()
    assert not claw.recorder.edits
    assert "stale" in model.chat_requests()[-1]["messages"][-1]["content"]


@PROFILES
async def test_undo_turn_across_two_files_and_refusal_after_a_human_edit(
    caps: types.ClientCapabilities, model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "b.py").write_text("B = 1\n")
    model.add(
        read("app.py"),
        edit("app.py", "hello", "hey"),
        read("b.py"),
        edit("b.py", "B = 1", "B = 2"),
        {
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": "c.py", "content": "C = 3\n"}}
            ]
        },
        {"text": "three files"},
        read("b.py"),
        edit("b.py", "B = 1", "B = 5"),
        {"text": "b again"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=caps,
        init_options={"tier": "write"},
    )
    try:
        uri_a = claw.open(workspace / "app.py", version=1)
        first = await claw.ask("change things", uri=uri_a)
        assert len(first["edits"]) == 3
        undone = await claw.command("claw.undoTurn", {"session": first["session"]})
        assert undone["turn"] == 1 and len(undone["files"]) == 3
        # Second turn: edit b.py, then the user edits b.py by hand: undo must refuse.
        second = await claw.ask("change b")
        (workspace / "b.py").write_text("B = 5  # the user's own change\n")
        with pytest.raises(JsonRpcInvalidParams) as caught:
            await claw.command("claw.undoTurn", {"session": second["session"]})
    finally:
        await claw.client.shutdown_session()
    # Undo of turn 1 arrived as ONE workspace edit covering every file, and restored them.
    undo_edit = claw.recorder.edits[3]
    assert undo_edit.label == "claw: undo turn 1"
    kinds = sorted(type(c).__name__ for c in undo_edit.edit.document_changes)
    assert kinds == ["DeleteFile", "TextDocumentEdit", "TextDocumentEdit"]
    assert client_docs(claw.client)[uri_a]["text"] == (
        "def greet(name):\n    return 'hello ' + name\n"
    )
    assert not (workspace / "c.py").exists()
    assert "b.py" in str(caught.value)
    assert "user's own change" in (workspace / "b.py").read_text()


async def test_edit_conflict_retries_against_the_new_buffer(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(read("app.py"), edit("app.py", "hello", "hey"), {"text": "done"})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)

        def user_typed(params: Any) -> bool:  # the user typed: the first edit is stale
            text = client_docs(claw.client)[uri]["text"]
            claw.change(uri, "# typed\n" + text, 2)
            return False

        claw.recorder.apply_answers += [user_typed, True]
        result = await claw.ask("hey", uri=uri)
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done"
    assert len(claw.recorder.edits) == 2
    first, second = (e.edit.document_changes[0].text_document.version for e in claw.recorder.edits)
    assert (first, second) == (1, 2), "the retry is rebuilt against the new buffer"
    assert result["edits"] == [{"uri": uri, "applied": True}]
    assert client_docs(claw.client)[uri]["text"].startswith("# typed\n")


async def test_unanswered_apply_edit_reports_unknown_status_and_the_turn_ends(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "n.txt", "content": "n"}}]},
        {"text": "I could not confirm the edit."},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"tier": "write", "clientRequestTimeout": 1},
    )
    claw.recorder.apply_answers.append(None)
    try:
        result = await asyncio.wait_for(claw.ask("write n"), 20)
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done"
    tool = [m for m in model.chat_requests()[-1]["messages"] if m["role"] == "tool"][-1]
    assert "edit status unknown" in tool["content"]


async def test_unsaved_agent_edits_are_saved_or_reported_before_a_shell_command(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    shell = {"tool_calls": [{"name": "shell", "arguments": {"command": "cat app.py"}}]}
    model.add(read("app.py"), edit("app.py", "hello", "hey"), shell, {"text": "done"})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "shell"}
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)
        await claw.ask("edit then run", uri=uri)
    finally:
        await claw.client.shutdown_session()
    unsaved = [e for e in claw.recorder.events if e["kind"] == "unsaved"]
    assert unsaved and unsaved[0]["uris"] == [uri]
    tool = [m for m in model.chat_requests()[-1]["messages"] if m["role"] == "tool"][-1]
    assert "unsaved editor changes in app.py" in tool["content"]


async def test_unsaved_documents_are_saved_through_claw_save_documents(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    shell = {"tool_calls": [{"name": "shell", "arguments": {"command": "cat app.py"}}]}
    model.add(read("app.py"), edit("app.py", "hello", "hey"), shell, {"text": "done"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"tier": "shell", "clientCapabilities": {"saveDocuments": True}},
    )
    saved: list[list[str]] = []

    @claw.client.feature("claw/saveDocuments")
    def save_documents(params: Any) -> dict:
        uris = list(params.uris)
        for uri in uris:
            Path(uri.removeprefix("file://")).write_text(client_docs(claw.client)[uri]["text"])
            claw.client.text_document_did_save(
                types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
        saved.append(uris)
        return {"saved": uris}

    try:
        uri = claw.open(workspace / "app.py", version=1)
        await claw.ask("edit then run", uri=uri)
    finally:
        await claw.client.shutdown_session()
    assert saved == [[uri]]
    tool = [m for m in model.chat_requests()[-1]["messages"] if m["role"] == "tool"][-1]
    assert "saved 1 edited file" in tool["content"] and "hey" in tool["content"]
