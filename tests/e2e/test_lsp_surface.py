"""The editor-grade LSP surface, under a VS Code-like and a Neovim-like client profile:
code actions mid-turn, the event sequence and progress, the three ways to cancel."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.lsp import NEOVIM_LIKE, VSCODE_LIKE, ClawSession, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

PROFILES = pytest.mark.parametrize("caps", [VSCODE_LIKE, NEOVIM_LIKE], ids=["vscode", "neovim"])
SLOW_TEXT = {"text": "word " * 400, "chunks": 400, "chunk_delay": 0.01}


# Unique per test process: parallel workers and other runs on the machine sleep too.
SLEEP = f"sleep 30.{os.getpid()}"


def code_action_params(
    uri: str, line: int = 0, end: int = 0, diagnostics: list[types.Diagnostic] | None = None
) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(end, 4)),
        context=types.CodeActionContext(diagnostics=diagnostics or []),
    )


@PROFILES
async def test_code_actions_answer_instantly_while_a_turn_streams(
    caps: types.ClientCapabilities, model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(SLOW_TEXT)
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=caps)
    try:
        uri = claw.open(workspace / "app.py")
        turn = asyncio.ensure_future(claw.ask("talk a lot"))
        while "text" not in claw.recorder.kinds():
            await asyncio.sleep(0.01)
        diagnostic = types.Diagnostic(
            range=types.Range(start=types.Position(1, 4), end=types.Position(1, 10)),
            message="Undefined name 'nme'",
            source="pyflakes",
            severity=types.DiagnosticSeverity.Error,
        )
        actions = await claw.client.text_document_code_action_async(
            code_action_params(uri, 0, 1, [diagnostic])
        )
        sessions = await claw.command("claw.sessions")
        assert not turn.done(), "the turn should still be streaming"
        result = await turn
    finally:
        await claw.client.shutdown_session()
    titles = [a.title for a in actions]
    assert titles[0] == "Claw: Fix: Undefined name 'nme'"
    assert "Claw: Explain selection" in titles and "Claw: Refactor selection" in titles
    fix = actions[0]
    assert fix.kind == types.CodeActionKind.QuickFix
    argument = fix.command.arguments[0]
    assert fix.command.command == "claw.ask"
    assert "line 2" in argument["prompt"] and "pyflakes" in argument["prompt"]
    assert argument["diagnostics"][0]["message"] == "Undefined name 'nme'"
    assert len(sessions) == 1
    assert result["stopReason"] == "done"


@PROFILES
async def test_quick_fix_action_runs_a_turn_with_the_diagnostic_in_context(
    caps: types.ClientCapabilities, model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "fixed"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=caps)
    try:
        uri = claw.open(workspace / "app.py")
        diagnostic = types.Diagnostic(
            range=types.Range(start=types.Position(1, 4), end=types.Position(1, 10)),
            message="E999 bad thing",
            source="ruff",
        )
        (fix, *_) = await claw.client.text_document_code_action_async(
            code_action_params(uri, 1, 1, [diagnostic])
        )
        result = await claw.command(fix.command.command, fix.command.arguments[0])
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done"
    sent = model.chat_requests()[0]["messages"][-1]["content"]
    assert "E999 bad thing" in sent and "[ruff]" in sent and "Active file: app.py" in sent


@PROFILES
async def test_event_sequence_and_progress(
    caps: types.ClientCapabilities, model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {
            "text": "Let me look.",
            "tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}],
        },
        {"text": "It greets."},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir), capabilities=caps)
    try:
        await claw.command("claw.ask", {"prompt": "what does app.py do?"}, token="tok-1")
    finally:
        await claw.client.shutdown_session()
    kinds = claw.recorder.kinds()
    assert kinds[0] == "text"
    assert kinds.index("toolCall") < kinds.index("toolResult") < len(kinds) - 1
    assert kinds[-1] == "done"
    text = "".join(e["delta"] for e in claw.recorder.events if e["kind"] == "text")
    assert text == "Let me look.It greets."
    values = [p.value for p in claw.recorder.progress if p.token == "tok-1"]
    assert values[0]["kind"] == "begin" if isinstance(values[0], dict) else values[0].kind
    kinds_progress = [v["kind"] if isinstance(v, dict) else v.kind for v in values]
    assert kinds_progress[0] == "begin" and kinds_progress[-1] == "end"
    assert "report" in kinds_progress
    busy = [s["busy"] for s in claw.recorder.statuses]
    assert busy == [True, False]


async def _start_cancel_case(
    model: ScriptedModel, workspace: Path, state_dir: Path, during: str
) -> tuple[ClawSession, asyncio.Future, str]:
    if during == "stream":
        model.add({"text": "slow " * 300, "chunks": 300, "chunk_delay": 0.05})
    else:
        model.add(
            {
                "tool_calls": [
                    {
                        "name": "shell",
                        "arguments": {"command": f"{SLEEP}; echo done", "timeout_s": 100},
                    }
                ]
            },
            {"text": "after"},
        )
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "shell"}
    )
    claw.recorder.approval_answers.append("Allow once")
    request = asyncio.ensure_future(
        claw.command_with_id("ask-1", "claw.ask", {"prompt": "go"}, token="cancel-tok")
    )
    wanted = "text" if during == "stream" else "approval"
    deadline = time.monotonic() + 15
    while wanted not in claw.recorder.kinds():
        assert time.monotonic() < deadline, claw.recorder.kinds()
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    return claw, request, wanted


def _sleepers() -> list[str]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"{SLEEP}; echo done" in cmdline or cmdline.strip() == SLEEP:
            out.append(pid)
    return out


@pytest.mark.parametrize("during", ["stream", "shell"])
@pytest.mark.parametrize("how", ["cancelRequest", "progressCancel", "clawCancel"])
async def test_cancel_really_stops(
    model: ScriptedModel, workspace: Path, state_dir: Path, during: str, how: str
) -> None:
    claw, request, _ = await _start_cancel_case(model, workspace, state_dir, during)
    try:
        if during == "shell":
            assert _sleepers(), "the shell command should be running"
        started = time.monotonic()
        if how == "cancelRequest":
            claw.cancel_request("ask-1")
        elif how == "progressCancel":
            claw.client.window_work_done_progress_cancel(
                types.WorkDoneProgressCancelParams(token="cancel-tok")
            )
        else:
            await claw.command("claw.cancel", {})
        if how == "cancelRequest":
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wait_for(request, 5)
            assert caught.value.code == -32800
        else:
            result = await asyncio.wait_for(request, 5)
            assert result["stopReason"] == "cancelled"
        elapsed = time.monotonic() - started
        # The session records the cancelled turn, and the server goes on serving.
        for _ in range(50):
            if claw.recorder.kinds()[-1:] == ["done"]:
                break
            await asyncio.sleep(0.05)
        sessions = await claw.command("claw.sessions")
    finally:
        await claw.client.shutdown_session()
    assert elapsed < 2.0
    assert not _sleepers(), "the shell's process group must be gone"
    done = [e for e in claw.recorder.events if e["kind"] == "done"]
    assert done and done[-1]["stopReason"] == "cancelled"
    assert len(sessions) == 1
    if during == "stream":
        # The model stream was closed: the scripted server saw the client go away early.
        assert len(model.chat_requests()) == 1


async def test_cancel_resolves_a_pending_approval_as_denied(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "x.txt", "content": "x"}}]},
        {"text": "after"},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    # The client never answers the approval: the user is away.
    claw.recorder.approval_answers.append("never")
    try:
        request = asyncio.ensure_future(claw.ask("write"))
        while not claw.recorder.approvals:
            await asyncio.sleep(0.02)
        await claw.command("claw.cancel", {})
        result = await asyncio.wait_for(request, 5)
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "cancelled"
    assert not (workspace / "x.txt").exists()
