"""Plain LSP clients (issue 14): eglot, Helix and stock Neovim, through the real server and the
scripted model. Each profile declares what that client declares, and the recording client
behaves as it does (eglot: didChange only when Emacs idles, versions bumped per text edit)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.support.lsp import (
    NEOVIM_LIKE,
    ClawSession,
    client_docs,
    flush_changes,
    server_env,
    start_claw,
)
from tests.support.scripted_model import ScriptedModel

# eglot 1.9 (Debian's elpa-eglot): no window capabilities at all, no clientInfo.
EGLOT = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        configuration=True,
        workspace_folders=True,
    ),
)
# Helix, as the brief of issue 14 has it: no showMessageRequest, no workDoneProgress.
HELIX = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[
                types.ResourceOperationKind.Create,
                types.ResourceOperationKind.Rename,
                types.ResourceOperationKind.Delete,
            ],
        ),
        configuration=True,
        workspace_folders=True,
    ),
    window=types.WindowClientCapabilities(),
    general=types.GeneralClientCapabilities(position_encodings=["utf-8", "utf-32", "utf-16"]),
)
HELIX_INFO = types.ClientInfo(name="helix", version="24.7")
# Stock Neovim 0.10 vim.lsp: dialogs, progress and showDocument.
STOCK_NVIM = types.ClientCapabilities(
    workspace=NEOVIM_LIKE.workspace,
    general=NEOVIM_LIKE.general,
    window=types.WindowClientCapabilities(
        work_done_progress=True,
        show_message=types.ShowMessageRequestClientCapabilities(),
        show_document=types.ShowDocumentClientCapabilities(support=True),
    ),
)


def edit(path: str, old: str, new: str, replace_all: bool = False) -> dict[str, Any]:
    arguments = {"path": path, "old_text": old, "new_text": new, "replace_all": replace_all}
    return {"tool_calls": [{"name": "edit_file", "arguments": arguments}]}


def tool_messages(model: ScriptedModel) -> list[str]:
    return [m["content"] for m in model.chat_requests()[-1]["messages"] if m["role"] == "tool"]


async def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def message_texts(claw: ClawSession) -> list[str]:
    return [m.message for m in claw.recorder.messages]


async def code_actions(
    claw: ClawSession, uri: str, line: int, diagnostics: list[types.Diagnostic] | None = None
) -> list[types.CodeAction]:
    actions = await claw.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    return [a for a in actions or [] if isinstance(a, types.CodeAction)]


async def test_blocked_eglot_gets_both_edits_applied_without_waiting_for_did_change(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    """Emacs sends no didChange while it waits for executeCommand: both edits still land,
    are reported applied, and the tool result does not wait for the didChange."""
    model.add(
        edit("app.py", "hello", "hey"),
        edit("app.py", "name", "who", replace_all=True),
        {"text": "done"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=EGLOT,
        init_options={"tier": "write"},
    )
    claw.recorder.change_delay = None  # held until Emacs idles
    try:
        uri = claw.open(workspace / "app.py", version=1)
        result = await claw.ask("two edits", uri=uri)
        assert result["edits"] == [{"uri": uri, "applied": True}]  # one entry per file
        versions = [e.edit.document_changes[0].text_document.version for e in claw.recorder.edits]
        assert versions == [1, 2], "the second edit expects the version after the first"
        assert not any("unknown" in m for m in tool_messages(model)), tool_messages(model)
        text = client_docs(claw.client)[uri]["text"]
        assert text == "def greet(who):\n    return 'hey ' + who\n"
        # applied: true -> the tool result event, with no didChange sent in between.
        results = [
            t
            for e, t in zip(claw.recorder.events, claw.recorder.event_times, strict=True)
            if e["kind"] == "toolResult"
        ]
        gaps = [r - a for a, r in zip(claw.recorder.apply_answered_at, results, strict=True)]
        print(f"applied:true -> tool result: {[round(g * 1000, 1) for g in gaps]} ms")
        # Emacs idles: the held didChange reconciles; undo works against the real version.
        flush_changes(claw.client, claw.recorder)
        await asyncio.sleep(0.3)
        undone = await claw.command("claw.undoTurn", {"session": result["session"]})
        assert undone["turn"] == 1
        assert client_docs(claw.client)[uri]["text"] == (workspace / "app.py").read_text()
        undo = claw.recorder.edits[-1].edit.document_changes[0]
        assert (
            undo.text_document.version == client_docs(claw.client)[uri]["version"] - len(undo.edits)
            or undo.text_document.version == 3
        )
    finally:
        await claw.client.shutdown_session()


@pytest.mark.parametrize("delay", [0.3, None], ids=["idle-didchange", "never-reported"])
async def test_version_conflict_gets_one_reread_and_one_rebuilt_edit(
    model: ScriptedModel, workspace: Path, state_dir: Path, delay: float | None
) -> None:
    """eglot bumps its version once per text edit: a first edit of two hunks leaves the
    server's guess one short. The refused edit is rebuilt once: against the reported version
    when the didChange comes, unversioned on the accepted text when it does not."""
    (workspace / "v.py").write_text("x = 1\nz = 0\ny = 1\n")
    model.add(
        edit("v.py", "1", "2", replace_all=True),
        edit("v.py", "z = 0", "z = 5"),
        {"text": "done"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=EGLOT,
        init_options={"tier": "write"},
    )
    claw.recorder.eglot_versions = True
    claw.recorder.change_delay = delay
    try:
        uri = claw.open(workspace / "v.py", version=1)
        result = await claw.ask("edit twice", uri=uri)
    finally:
        await claw.client.shutdown_session()
    assert result["edits"] == [{"uri": uri, "applied": True}]
    assert tool_messages(model) == ["Applied the change to v.py."] * 2
    assert client_docs(claw.client)[uri]["text"] == "x = 2\nz = 5\ny = 2\n"
    versions = [e.edit.document_changes[0].text_document.version for e in claw.recorder.edits]
    assert versions == [1, 2, 3 if delay else None], versions  # refused once, rebuilt once


async def test_neovim_gets_edits_of_an_unreported_buffer_unversioned(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    """Neovim would drop a second edit with a guessed (too old) version and still say
    applied: so while its didChange is pending, the next edit goes unversioned."""
    model.add(edit("app.py", "hello", "hey"), edit("app.py", "greet", "welcome"), {"text": "ok"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=STOCK_NVIM,
        client_info=types.ClientInfo(name="Neovim", version="0.11.0"),
        init_options={"tier": "write"},
    )
    claw.recorder.nvim_versions = True
    claw.recorder.change_delay = 0.5  # debounced didChange
    try:
        uri = claw.open(workspace / "app.py", version=1)
        await claw.ask("two edits", uri=uri)
    finally:
        await claw.client.shutdown_session()
    versions = [e.edit.document_changes[0].text_document.version for e in claw.recorder.edits]
    assert versions == [1, None]
    assert client_docs(claw.client)[uri]["text"] == "def welcome(name):\n    return 'hey ' + name\n"


async def test_background_turn_answers_at_once_and_reports_long_answers_in_a_transcript(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    long_answer = "The greeting now says hey.\n\n" + "More detail. " * 60
    model.add(edit("app.py", "hello", "hey"), {"text": long_answer, "delay": 0.5})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=STOCK_NVIM,
        init_options={"tier": "write"},
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)
        started = await claw.ask("say hey", uri=uri, background=True)
        assert started["started"] is True and started["turn"] == 1 and started["session"]
        assert not any(e["kind"] == "done" for e in claw.recorder.events), "returned at once"
        await wait_for(lambda: claw.recorder.shown_documents, "the transcript to be shown")
        (shown,) = claw.recorder.shown_documents
        transcript = Path(shown.uri.removeprefix("file://"))
        assert transcript.is_relative_to(state_dir)
        body = transcript.read_text()
        assert "The greeting now says hey." in body and "## Tool calls" in body
        assert "`edit_file` (ok)" in body and "app.py" in body
        summary = next(m for m in message_texts(claw) if "greeting" in m)
        assert "Changed: app.py" in summary
        # Progress on a token the server created (the client passed none).
        assert claw.recorder.progress_created
        kinds = [
            dict(p.value)["kind"]
            for p in claw.recorder.progress
            if p.token == claw.recorder.progress_created[0]
        ]
        assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    finally:
        await claw.client.shutdown_session()
    assert "hey" in client_docs(claw.client)[uri]["text"]


async def test_short_background_answer_is_a_message_and_cancel_from_progress(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "It greets."}, {"text": "never seen", "delay": 30})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), capabilities=STOCK_NVIM
    )
    try:
        await claw.ask("what does it do", background=True)
        await wait_for(lambda: "claw: It greets." in message_texts(claw), "the answer message")
        assert not claw.recorder.shown_documents
        before = len(claw.recorder.progress_created)
        await claw.ask("a long one", background=True)
        await wait_for(lambda: len(claw.recorder.progress_created) > before, "progress")
        token = claw.recorder.progress_created[-1]
        claw.client.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token)
        )
        await wait_for(lambda: "claw: (cancelled)" in message_texts(claw), "the cancel")
    finally:
        await claw.client.shutdown_session()


async def test_claw_comment_runs_from_a_code_action_and_its_line_goes_with_the_edit(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    source = "def first(xs):\n    # claw: handle the empty list\n    return xs[0]\n"
    (workspace / "first.py").write_text(source)
    model.add(
        edit(
            "first.py", "    return xs[0]", "    if not xs:\n        return None\n    return xs[0]"
        ),
        {"text": "Handled."},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=EGLOT,
        init_options={"tier": "write"},
    )
    try:
        uri = claw.open(workspace / "first.py", version=1)
        actions = await code_actions(claw, uri, 1)
        titles = [a.title for a in actions]
        assert titles[0] == "Claw: handle the empty list"
        assert "Claw: Ask about this file" in titles and "Claw: Continue the session" in titles
        command = actions[0].command
        assert command is not None and command.arguments
        argument = command.arguments[0]
        assert argument["background"] is True
        assert argument["removeLine"] == {"line": 1, "text": "    # claw: handle the empty list"}
        started = await claw.command(command.command, argument)
        assert started["started"] is True
        await wait_for(lambda: any("Handled." in m for m in message_texts(claw)), "the answer")
    finally:
        await claw.client.shutdown_session()
    assert client_docs(claw.client)[uri]["text"] == (
        "def first(xs):\n    if not xs:\n        return None\n    return xs[0]\n"
    )
    assert len(claw.recorder.edits) == 1, "one edit: the change and the comment line"
    user = model.chat_requests()[0]["messages"][-1]["content"]
    assert "handle the empty list" in user and "first.py" in user


SHELL = {"tool_calls": [{"name": "shell", "arguments": {"command": "echo hi > out.txt"}}]}


@pytest.mark.parametrize(("answer", "ran"), [("once", True), ("deny", False)])
async def test_helix_gets_approvals_as_diagnostics_with_quick_fixes(
    model: ScriptedModel, workspace: Path, state_dir: Path, answer: str, ran: bool
) -> None:
    model.add(SHELL, {"text": "ran it"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=HELIX,
        client_info=HELIX_INFO,
        init_options={"tier": "write"},
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)
        turn = asyncio.ensure_future(
            claw.ask(
                "run it",
                uri=uri,
                range={"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
            )
        )
        await wait_for(lambda: claw.recorder.diagnostics.get(uri), "the approval diagnostic")
        (diag,) = claw.recorder.diagnostics[uri]
        assert diag.severity == types.DiagnosticSeverity.Information and diag.range.start.line == 1
        assert diag.message == "claw wants to run `echo hi > out.txt` [shell]"
        actions = await code_actions(claw, uri, 1, [diag])
        fixes = {a.title.split(":")[1].strip(): a for a in actions if "wants" not in a.title}
        assert {"Allow once", "Allow for session", "Deny"} <= set(fixes)
        chosen = fixes["Allow once" if answer == "once" else "Deny"].command
        assert chosen is not None and chosen.arguments
        assert (await claw.command(chosen.command, chosen.arguments[0]))["answered"] is True
        result = await asyncio.wait_for(turn, 30)
        await wait_for(lambda: not claw.recorder.diagnostics.get(uri), "the diagnostic to go")
    finally:
        await claw.client.shutdown_session()
    assert not claw.recorder.approvals, "no showMessageRequest to a client without dialogs"
    assert result["stopReason"] == "done"
    assert (workspace / "out.txt").exists() == ran


async def test_unanswered_diagnostic_approval_times_out_as_denied(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(SHELL, {"text": "ok"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=HELIX,
        client_info=HELIX_INFO,
        init_options={"tier": "write", "approvalTimeout": 1},
    )
    try:
        uri = claw.open(workspace / "app.py", version=1)
        result = await asyncio.wait_for(claw.ask("run it", uri=uri), 30)
        await wait_for(lambda: not claw.recorder.diagnostics.get(uri), "the diagnostic to go")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done" and not (workspace / "out.txt").exists()
    assert "denied" in " ".join(tool_messages(model)).lower()


async def test_fix_quick_fix_for_a_client_diagnostic_runs_in_the_background(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=EGLOT)
    try:
        uri = claw.open(workspace / "app.py", version=1)
        diag = types.Diagnostic(
            range=types.Range(types.Position(1, 4), types.Position(1, 10)),
            message="use an f-string",
            source="ruff",
        )
        actions = await code_actions(claw, uri, 1, [diag])
        (fix,) = [a for a in actions if a.title.startswith("Claw: Fix:")]
        assert fix.title == "Claw: Fix: use an f-string"
        assert fix.command is not None and fix.command.arguments
        assert fix.command.arguments[0]["background"] is True
    finally:
        await claw.client.shutdown_session()


async def test_a_hostile_claw_comment_is_shown_escaped(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    (workspace / "evil.py").write_text("# claw: tidy up\u202e\x1b[2Jgnihton\nx = 1\n")
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=EGLOT)
    try:
        uri = claw.open(workspace / "evil.py", version=1)
        (action, *_) = await code_actions(claw, uri, 0)
    finally:
        await claw.client.shutdown_session()
    assert action.title.startswith("Claw: tidy up")
    assert "\u202e" not in action.title and "\x1b" not in action.title, action.title
    assert not model.chat_requests(), "nothing runs until the user picks it"


async def test_a_failed_background_turn_reports_the_error(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"status": 400, "body": '{"error": {"message": "model not loaded"}}'})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=EGLOT)
    try:
        started = await claw.ask("hello", background=True)
        assert started["started"] is True
        await wait_for(
            lambda: any(m.type == types.MessageType.Error for m in claw.recorder.messages),
            "the error message",
        )
    finally:
        await claw.client.shutdown_session()
    (error,) = [m for m in claw.recorder.messages if m.type == types.MessageType.Error]
    assert error.message.startswith("claw: ") and "model not loaded" in error.message
    assert "sk-test-SECRET" not in error.message


async def test_frames_after_a_response_are_followed_by_a_flush_once_the_server_is_quiet(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    # Emacs' jsonrpc.el leaves the frames that came in the same read as the response to its
    # synchronous request unread until more output arrives (tests/emacs): the background
    # turn's answer, sent after the response to claw.ask, must be followed by a `$/claw/flush`.
    model.add({"text": "It greets."})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=EGLOT)
    flushes: list[int] = []  # how many messages the client had when each flush came
    claw.client.feature("$/claw/flush")(lambda params: flushes.append(len(claw.recorder.messages)))
    try:
        started = await claw.ask("what does it do", background=True)
        assert started["started"] is True
        await wait_for(lambda: any("It greets." in m for m in message_texts(claw)), "the answer")
        answer_at = len(claw.recorder.messages)

        def after() -> int:
            return sum(n >= answer_at for n in flushes)

        await wait_for(lambda: after() >= 1, "a flush after the answer")
        await wait_for(lambda: after() >= 3, "the rest of the series")
        await asyncio.sleep(1.0)
        assert after() == 3, "a quiet server stops nudging after the series"
    finally:
        await claw.client.shutdown_session()
