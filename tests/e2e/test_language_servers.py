"""Language tools with claw-run language servers (issue 16), end to end: the real claw-lsp
process, the real jedi-language-server from PyPI configured through `languageServers`, and
the scripted model over HTTP. The model navigates by definition and references, sees the
errors its edits introduce and fix, renames across files (one applyEdit, undone by
claw.undoTurn), and survives a language server that crashes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.support.calls import call, tool_results
from tests.support.lsp import NEOVIM_LIKE, client_docs, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

JEDI = Path(sys.executable).parent / "jedi-language-server"
FIXTURES = Path(__file__).resolve().parents[1] / "support" / "lsp_fixtures"
CRASHING_SERVER = FIXTURES / "crashing_server.py"
LIB = "def greet(name):\n    return 'hello ' + name\n"
APP = 'from lib import greet\n\nprint(greet("world"))\nprint(greet("again"))\n'
TOOLS = ["diagnostics", "definition", "references", "hover", "workspace_symbols", "rename_symbol"]

pytestmark = pytest.mark.skipif(not JEDI.exists(), reason="jedi-language-server not installed")


def jedi_servers() -> dict[str, Any]:
    return {"python": {"command": [str(JEDI)], "extensions": [".py"]}}


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "lib.py").write_text(LIB)
    (workspace / "app.py").write_text(APP)
    return workspace


def _offered(request: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools", [])]


def _tools_chars(request: dict[str, Any]) -> int:
    return len(json.dumps(request.get("tools", []), separators=(",", ":")))


async def test_definition_and_references_from_jedi(
    model: ScriptedModel, project: Path, state_dir: Path
) -> None:
    model.add(
        call("definition", path="app.py", line=3, symbol="greet"),
        call("references", path="lib.py", line=1, symbol="greet"),
        call("hover", path="app.py", line=3, symbol="greet"),
        call("definition", path="app.py", line=2, symbol="greet"),
        {"text": "found it"},
    )
    claw = await start_claw(
        [project],
        server_env(model.base_url, state_dir),
        init_options={"languageServers": jedi_servers()},
    )
    try:
        result = await claw.ask("where is greet defined?")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    definition, references, hover, wrong_line = tool_results(model)
    assert "lib.py:1:5: def greet(name):" in definition
    assert "(from python)" in definition
    assert "app.py:3:" not in definition
    # Every use: the import, both calls, and the definition itself.
    assert "4 reference(s) to 'greet'" in references
    for where in ("lib.py:1:5", "app.py:1:17", "app.py:3:7", "app.py:4:7"):
        assert where in references, references
    assert "def greet(name)" in hover
    assert "'greet' is not on line 2 of app.py" in wrong_line
    assert "it is on line 1, 3, 4" in wrong_line
    first = model.chat_requests()[0]
    assert _offered(first)[-len(TOOLS) :] == TOOLS


async def test_the_delta_reports_the_error_an_edit_introduces_and_then_fixes(
    model: ScriptedModel, project: Path, state_dir: Path
) -> None:
    broken = 'print(greet("world")'
    model.add(
        call("read_file", path="app.py"),
        call("edit_file", path="app.py", old_text='print(greet("world"))', new_text=broken),
        call("edit_file", path="app.py", old_text=broken, new_text='print(greet("world"))'),
        call("edit_file", path="app.py", old_text="again", new_text="twice"),
        call("diagnostics", path="app.py"),
        {"text": "done"},
    )
    claw = await start_claw(
        [project],
        server_env(model.base_url, state_dir),
        init_options={"tier": "write", "languageServers": jedi_servers()},
    )
    try:
        result = await claw.ask("break it and fix it")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    _, breaking, fixing, harmless, listed = tool_results(model)
    assert "Applied the change to app.py." in breaking
    assert "Diagnostics: app.py: 1 new error" in breaking, breaking
    assert "error [compile]: SyntaxError: '(' was never closed" in breaking
    assert "Diagnostics: app.py: fixed 1 error" in fixing, fixing
    assert "new error" not in fixing
    # An edit that changes no diagnostics adds no text at all.
    assert harmless.strip() == "Applied the change to app.py."
    assert listed.startswith("app.py: 0 errors, 0 warnings (from python)"), listed


async def test_rename_edits_two_files_in_one_apply_edit_and_undo_reverts_it(
    model: ScriptedModel, project: Path, state_dir: Path
) -> None:
    model.add(
        call("rename_symbol", path="lib.py", line=1, symbol="greet", newName="welcome"),
        {"text": "renamed"},
    )
    claw = await start_claw(
        [project],
        server_env(model.base_url, state_dir),
        init_options={"tier": "write", "languageServers": jedi_servers()},
    )
    try:
        result = await claw.ask("rename greet to welcome")
        (rename,) = tool_results(model)
        assert "Renamed 'greet' to 'welcome'" in rename and "in 2 file(s)" in rename, rename
        assert (project / "lib.py").read_text() == LIB.replace("greet", "welcome")
        assert (project / "app.py").read_text() == APP.replace("greet", "welcome")
        (edit,) = claw.recorder.edits
        uris = {change.text_document.uri for change in edit.edit.document_changes}
        assert uris == {(project / "lib.py").as_uri(), (project / "app.py").as_uri()}
        assert sorted(e["uri"] for e in result["edits"]) == sorted(uris)
        undone = await claw.command("claw.undoTurn", {"session": result["session"]})
    finally:
        await claw.client.shutdown_session()
    assert undone["undone"] is True
    assert (project / "lib.py").read_text() == LIB
    assert (project / "app.py").read_text() == APP


async def test_a_crashing_server_gives_a_clear_error_is_restarted_and_the_turn_goes_on(
    model: ScriptedModel, project: Path, state_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "crashed-once"
    servers = {
        "crashy": {
            "command": [sys.executable, str(CRASHING_SERVER), str(marker)],
            "extensions": [".py"],
        }
    }
    model.add(
        call("definition", path="app.py", line=3, symbol="greet"),
        call("definition", path="app.py", line=4, symbol="greet"),
        {"text": "the turn went on"},
    )
    claw = await start_claw(
        [project],
        server_env(model.base_url, state_dir),
        init_options={"languageServers": servers},
    )
    try:
        result = await claw.ask("where is greet?")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done" and result["text"] == "the turn went on"
    crashed, restarted = tool_results(model)
    assert crashed.startswith("Error: definition failed: language server crashy exited")
    assert "exit code 3" in crashed and "crashing on purpose" in crashed
    assert "restarts it on the next request" in crashed
    assert "app.py:1:1: from lib import greet" in restarted, restarted
    assert marker.exists()


async def test_no_language_server_no_tools(
    model: ScriptedModel, project: Path, state_dir: Path
) -> None:
    """Not offered is not failing: without languageServers (and a plain client) the six tools
    are absent, and with them the schemas add at most 1,200 characters."""
    model.add({"text": "one"}, {"text": "two"})
    plain = await start_claw([project], server_env(model.base_url, state_dir / "a"))
    try:
        await plain.ask("hi")
    finally:
        await plain.client.shutdown_session()
    with_servers = await start_claw(
        [project],
        server_env(model.base_url, state_dir / "b"),
        init_options={"languageServers": jedi_servers()},
    )
    try:
        await with_servers.ask("hi")
    finally:
        await with_servers.client.shutdown_session()
    without, offered = model.chat_requests()
    assert not set(TOOLS) & set(_offered(without))
    assert set(TOOLS) <= set(_offered(offered))
    growth = _tools_chars(offered) - _tools_chars(without)
    assert 0 < growth <= 1200, growth


async def test_plain_client_gets_fix_quick_fixes_and_context_from_claw_run_servers(
    model: ScriptedModel, project: Path, state_dir: Path
) -> None:
    """Like Emacs or Helix: the client knows only claw; claw publishes none of jedi's
    diagnostics as its own, yet offers "Claw: Fix" for them and puts them into the context."""
    model.add({"text": "looked"})
    claw = await start_claw(
        [project],
        server_env(model.base_url, state_dir),
        capabilities=NEOVIM_LIKE,
        init_options={"languageServers": jedi_servers()},
    )
    try:
        broken = "def f(:\n    pass\n"
        uri = claw.open(project / "bad.py", text=broken)
        await asyncio.sleep(0.3)
        claw.change(uri, broken + "\n", 2)
        actions: list[Any] = []
        for _ in range(60):  # jedi starts, then publishes about a second after the change
            actions = await claw.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                    context=types.CodeActionContext(diagnostics=[]),
                )
            )
            if any(a.title.startswith("Claw: Fix: SyntaxError") for a in actions or []):
                break
            await asyncio.sleep(0.2)
        fix = next(a for a in actions if a.title.startswith("Claw: Fix: SyntaxError"))
        assert fix.command.command == "claw.ask"
        assert "invalid syntax" in fix.command.arguments[0]["prompt"]
        await claw.ask("what is wrong here?", uri=uri)
        shown = (await claw.ask("/context"))["text"]
    finally:
        await claw.client.shutdown_session()
    assert not any(d.source == "compile" for d in claw.recorder.diagnostics.get(uri, [])), (
        "claw must not publish jedi's diagnostics as its own"
    )
    context = model.chat_requests()[0]["messages"][-1]["content"]
    assert "Diagnostics:" in context and "[compile]: SyntaxError" in context
    assert client_docs(claw.client)[uri]["version"] == 2
    assert "diagnostics (editor context)" in shown, shown


def test_cli_uses_claw_run_servers(model: ScriptedModel, project: Path, state_dir: Path) -> None:
    """The headless CLI: definition and the edit delta from jedi, configured in the user's
    config file (never from the workspace)."""
    import subprocess

    model.add(
        call("definition", path="app.py", line=3, symbol="greet"),
        call("read_file", path="lib.py"),
        call("edit_file", path="lib.py", old_text="return 'hello ' + name", new_text="return ("),
        {"text": "done"},
    )
    env = server_env(model.base_url, state_dir)
    config_dir = Path(env["XDG_CONFIG_HOME"]) / "claw-lsp"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        f'[languageServers.python]\ncommand = ["{JEDI}"]\nextensions = [".py"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "go", "--folder", str(project), "--tier",
         "write", "--json"],
        env=env, text=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    definition, _, edit = tool_results(model)
    assert "lib.py:1:5: def greet(name):" in definition
    assert "Diagnostics: lib.py: 1 new error" in edit, edit
    assert not _jedi_working_in(project), "jedi must be shut down when the CLI exits"


def _jedi_working_in(project: Path) -> list[str]:
    """This test's jedi processes (working in its project): other tests run their own."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if str(JEDI).encode() in cmdline and state != "Z" and cwd.is_relative_to(project):
            found.append(pid)
    return found
