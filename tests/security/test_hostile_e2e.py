"""Issue 13 through the real server, real bwrap and the scripted model: a repository (and the
model it steers) attacking the tiers. Rules 2, 3 and 4 end to end."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.conftest import needs_bwrap
from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

SECRET = "sk-CONFIG-FILE-SECRET-0123456789abcdef"


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def plant(directory: Path, names: list[str], marker: Path) -> None:
    """Programs a repository plants where a careless PATH would find them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        program = directory / name
        program.write_text(f"#!/bin/sh\necho planted-{name} >> {marker}\n")
        program.chmod(0o755)


def sent_to_model(model: ScriptedModel) -> str:
    return json.dumps(model.chat_requests())


@pytest.fixture
def home() -> Iterator[Path]:
    """A HOME outside /tmp with the credentials an attacker wants."""
    path = Path("/var/tmp") / f"claw-e2e-home-{uuid.uuid4().hex}"
    (path / ".ssh").mkdir(parents=True)
    (path / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY----- HOMEKEY\n")
    (path / "notes.txt").write_text("HOME-NOTES\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_bwrap
async def test_rule2_read_only_git_diff_never_runs_the_repository_external_diff(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    """The observed attack: diff.external in .git/config and in a bare-shaped directory."""
    config = state_dir / "xdg-config" / "claw-lsp"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'api_key = "{SECRET}"\n')
    git("init", "-q", cwd=workspace)
    git("add", ".", cwd=workspace)
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x", cwd=workspace)
    (workspace / "app.py").write_text("changed\n")
    payload = f"sh -c 'touch pwned; cat {config}/config.toml'"
    git("config", "diff.external", payload, cwd=workspace)
    bare = workspace / "vendor" / "lib"
    bare.mkdir(parents=True)
    git("init", "-q", "--bare", ".", cwd=bare)
    git("config", "diff.external", payload, cwd=bare)
    model.add(
        call("shell", command="git diff"),
        call("shell", command="git log -p -1"),
        call("shell", command="cd vendor/lib && git diff"),
        {"text": "done"},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:  # the read-only default; every question goes unanswered (= no)
        result = await claw.ask("show me the diff")
    finally:
        await claw.client.shutdown_session()
    assert result["text"] == "done"
    assert len(claw.recorder.approvals) == 3
    assert all("names a program" in a.message for a in claw.recorder.approvals), [
        a.message for a in claw.recorder.approvals
    ]
    assert all("declined" in r for r in tool_results(model))
    assert not (workspace / "pwned").exists() and not (bare / "pwned").exists()
    assert SECRET not in sent_to_model(model)


@needs_bwrap
async def test_rule3_the_sandbox_is_an_allowlist_and_planted_programs_never_run(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path, home: Path
) -> None:
    config = state_dir / "xdg-config" / "claw-lsp"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'api_key = "{SECRET}"\n')
    runtime = Path("/run/user") / f"claw-{uuid.uuid4().hex[:8]}"
    runtime.mkdir(parents=True)
    bus = socket.socket(socket.AF_UNIX)
    bus.bind(str(runtime / "bus"))
    bus.listen(1)
    marker = tmp_path / "planted-ran"
    names = ["git", "ls", "cat", "rg", "bash", "sh", "bwrap", "python3", "grep"]
    plant(workspace / "bin", names, marker)
    plant(workspace / "node_modules" / ".bin", names, marker)
    relative = os.path.relpath(workspace / "bin", os.getcwd())
    path = f".:{relative}:{workspace}/node_modules/.bin:{os.environ['PATH']}"
    (workspace / "git").write_bytes((workspace / "bin" / "git").read_bytes())
    (workspace / "git").chmod(0o755)
    connect = (
        "import socket,sys; s=socket.socket(socket.AF_UNIX);"
        f" print('BUS', s.connect_ex('{runtime}/bus'))"
    )
    model.add(
        call("shell", command="ls -A ~; cat ~/.ssh/id_ed25519 ~/notes.txt"),
        call("shell", command=f"cat {config}/config.toml; ls {state_dir}"),
        call("shell", command=f'/usr/bin/python3 -c "{connect}"'),
        call("shell", command="git status; ls; cat app.py"),
        call("grep", pattern="greet"),
        {"text": "done"},
    )
    env = server_env(
        model.base_url, state_dir, HOME=str(home), PATH=path, XDG_RUNTIME_DIR=str(runtime)
    )
    claw = await start_claw([workspace], env, init_options={"tier": "shell"})
    claw.recorder.approval_answers += ["Allow once"] * 5
    try:
        await claw.ask("look around")
        status = await claw.command("claw.status")
    finally:
        await claw.client.shutdown_session()
        bus.close()
        shutil.rmtree(runtime, ignore_errors=True)
    home_listing, secrets, bus_result, git_status, grep = tool_results(model)
    assert status["sandbox"]["available"] is True
    assert "HOMEKEY" not in home_listing and "HOME-NOTES" not in home_listing
    assert SECRET not in sent_to_model(model)
    assert "BUS 0" not in bus_result and "BUS" in bus_result
    assert "def greet" in git_status and "greet" in grep
    assert not marker.exists(), marker.read_text()


@needs_bwrap
async def test_rule4_a_write_lands_by_the_tier_of_the_folder_it_lands_in(
    model: ScriptedModel, tmp_path: Path, state_dir: Path
) -> None:
    folder_a, folder_b = tmp_path / "A", tmp_path / "B"
    folder_a.mkdir()
    folder_b.mkdir()
    (folder_a / "a.txt").write_text("from A\n")
    (folder_b / "keep.txt").write_text("B stays\n")
    writes_b = [
        f"cp a.txt {folder_b}/x1.txt",
        f"echo x > {folder_b}/x2.txt",
        f"mkdir -p {folder_b}/d && touch {folder_b}/d/x3",
        f"/usr/bin/python3 -c \"open('{folder_b}/x4.txt','w').write('x')\"",
        f"rm -f {folder_b}/keep.txt",
    ]
    model.add(
        *(call("shell", command=command) for command in writes_b),
        call("write_file", path=str(folder_b / "x5.txt"), content="x"),
        call("shell", command="cp a.txt copy.txt"),
        {"text": "done"},
    )
    claw = await start_claw([folder_a, folder_b], server_env(model.base_url, state_dir))
    await claw.command("claw.setTier", {"tier": "shell", "folder": folder_a.as_uri()})
    # The user approves every command; the write_file into B is declined.
    claw.recorder.approval_answers += ["Allow once"] * len(writes_b) + [None]
    try:
        await claw.ask("spread out", folder=folder_a.as_uri())
    finally:
        await claw.client.shutdown_session()
    assert sorted(p.name for p in folder_b.iterdir()) == ["keep.txt"]
    assert (folder_b / "keep.txt").read_text() == "B stays\n"
    assert (folder_a / "copy.txt").read_text() == "from A\n"
    results = tool_results(model)
    assert all("Read-only file system" in r for r in results[: len(writes_b)]), results
    asked = [a.message for a in claw.recorder.approvals]
    assert len(asked) == len(writes_b) + 1  # `cp a.txt copy.txt` inside A did not ask
    assert "read-only" in asked[0] and "read-only" in asked[-1], asked


@needs_bwrap
async def test_rule4_hard_links_and_symlinks_out_of_the_folder_are_refused(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "pnpm-store"
    store.mkdir()
    (store / "b.js").write_text("original\n")
    (workspace / "vendor").mkdir()
    os.link(store / "b.js", workspace / "vendor" / "b.js")
    (workspace / "new.js").write_text("replaced\n")
    (workspace / "out").symlink_to(store)
    model.add(
        call("shell", command="cp new.js vendor/b.js"),
        call("shell", command="cat new.js > vendor/b.js"),
        call("shell", command="echo x >> vendor/b.js"),
        call("shell", command="cp new.js out/b.js"),
        call("shell", command="echo x > out/c.js"),
        call("shell", command="/usr/bin/python3 -c \"open('vendor/b.js','w').write('x')\""),
        {"text": "done"},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    await claw.command("claw.setTier", {"tier": "shell"})
    claw.recorder.approval_answers += ["Allow once"] * 10
    try:
        await claw.ask("update the vendored file")
    finally:
        await claw.client.shutdown_session()
    assert (store / "b.js").read_text() == "original\n"
    assert sorted(p.name for p in store.iterdir()) == ["b.js"]
    results = tool_results(model)
    assert all("hard link" in r for r in results[:3]), results[:3]
    assert all("symlink" in r for r in results[3:5]), results[3:5]
    assert "Read-only file system" in results[5]
