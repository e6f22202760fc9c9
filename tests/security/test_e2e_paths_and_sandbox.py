"""PC and SV rows through the real server: URIs, folder changes, and a host without bwrap."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lsprotocol import types

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


async def test_pc01_pc04_pc10_pc11_pc14_through_the_server(
    model: ScriptedModel, tmp_path: Path, state_dir: Path
) -> None:
    folder_a, folder_b, outside = tmp_path / "A", tmp_path / "B", tmp_path / "outside"
    for path in (folder_a, folder_b, outside):
        path.mkdir()
    (outside / "secret.txt").write_text("TOPSECRET\n")
    (folder_a / "link.txt").symlink_to(outside / "secret.txt")
    model.add(
        call("read_file", path="../../etc/passwd"),
        call("read_file", path="link.txt"),
        call("grep", pattern="TOPSECRET"),
        call("read_file", path="a\u0000b"),
        {"text": "first done"},
        call("write_file", path=str(folder_b / "x.txt"), content="x"),
        {"text": "second done"},
    )
    claw = await start_claw([folder_a, folder_b], server_env(model.base_url, state_dir))
    try:
        for uri in (
            "untitled:Untitled-1",
            "file://evilhost/share/x.py",
            "vscode-notebook-cell:/A/nb.ipynb#W0sZmlsZQ%3D%3D",
            folder_a.as_uri() + "/a%00b.py",
        ):
            claw.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri, language_id="python", version=1, text="print(1)\n"
                    )
                )
            )
        first = await claw.ask("look around", uri="untitled:Untitled-1")
        claw.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[],
                    removed=[types.WorkspaceFolder(uri=folder_b.as_uri(), name="B")],
                )
            )
        )
        second = await claw.ask("write into B", folder=folder_a.as_uri())
        status = await claw.command("claw.status")
    finally:
        await claw.client.shutdown_session()
    assert first["text"] == "first done" and second["text"] == "second done"
    passwd, link, grep, nul, write_b = tool_results(model)
    assert "outside the workspace" in passwd and "root:" not in passwd
    assert "outside the workspace" in link and "TOPSECRET" not in link
    assert "TOPSECRET" not in grep
    assert nul.startswith("Error:") and "NUL" in nul
    assert write_b.startswith("Error:") and "outside" in write_b
    assert not (folder_b / "x.txt").exists()
    assert status["folder"] == folder_a.as_uri()


async def test_sv11_without_bwrap_every_command_asks_and_everyone_is_told(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path, no_orphans: None
) -> None:
    # A PATH without bwrap for the server process: the honest way to lose the sandbox.
    tools = tmp_path / "bin-without-bwrap"
    tools.mkdir()
    for directory in ("/usr/bin", "/bin"):
        for name in os.listdir(directory):
            if name != "bwrap" and not (tools / name).exists():
                (tools / name).symlink_to(Path(directory) / name)
    env = server_env(model.base_url, state_dir, PATH=str(tools))
    model.add(call("shell", command="ls"), call("shell", command="ls"), {"text": "done"})
    claw = await start_claw([workspace], env, init_options={"tier": "shell"})
    claw.recorder.approval_answers += ["Allow once", "Deny"]
    try:
        await claw.ask("list files")
        status = await claw.command("claw.status")
        doctor = await claw.command("claw.doctor")  # probes the backend: after the turn
    finally:
        await claw.client.shutdown_session()
    assert status["sandbox"]["available"] is False
    assert "not installed" in status["sandbox"]["reason"]
    assert "UNAVAILABLE" in doctor["text"] and doctor["report"]["sandbox"]["available"] is False
    assert len(claw.recorder.approvals) == 2  # even `ls`, every time
    assert all("no sandbox" in a.message for a in claw.recorder.approvals)
    ran, refused = tool_results(model)[:2]
    assert "NOT sandboxed" in ran and "app.py" in ran
    assert "declined" in refused
    notices = [e for e in claw.recorder.events if e["kind"] == "notice"]
    assert len([n for n in notices if "NOT sandboxed" in json.dumps(n)]) == 1  # warned once


def test_sv11_claw_lsp_doctor_reports_the_sandbox(
    model: ScriptedModel, state_dir: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from claw_lsp.permissions.sandbox import probe_sandbox

    tools = tmp_path / "bin-without-bwrap"
    tools.mkdir()
    for name in ("bash", "sh", "git", "uname"):
        if os.path.exists(f"/usr/bin/{name}"):
            (tools / name).symlink_to(f"/usr/bin/{name}")
    for path, expected in (
        (str(tools), "UNAVAILABLE (bubblewrap (bwrap) is not installed)"),
        (os.environ["PATH"], "bubblewrap works" if probe_sandbox().available else "UNAVAILABLE"),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "claw_lsp", "doctor"],
            cwd=tmp_path,
            env=server_env(model.base_url, state_dir, PATH=path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert f"Sandbox: {expected}" in completed.stdout, completed.stdout + completed.stderr
