"""bubblewrap sandbox (SV-09, SV-10, SV-11, SV-14, PC-13): real bwrap, real files, real sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from claw_lsp.permissions.child_env import build_child_env
from claw_lsp.permissions.sandbox import SandboxStatus, probe_sandbox, sandbox_argv
from claw_lsp.permissions.sandbox_plan import (
    SandboxPlan,
    plan_sandbox,
    record_placeholders,
    remove_placeholders,
    sweep_ledgers,
)

STATUS = probe_sandbox()
pytestmark = pytest.mark.sandbox
needs_bwrap = pytest.mark.skipif(
    not STATUS.available, reason=f"sandbox unavailable here: {STATUS.reason}"
)


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A scratch directory outside /tmp, which the sandbox replaces with a private tmpfs."""
    path = Path("/var/tmp") / f"claw-sandbox-test-{uuid.uuid4().hex}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / "a.txt").write_text("hello\n")
    return root


def run_in(
    command: str, plan: SandboxPlan, cwd: Path, *, clean: bool = True
) -> subprocess.CompletedProcess[str]:
    assert STATUS.bwrap is not None
    created = plan.missing_placeholders()
    try:
        return subprocess.run(
            sandbox_argv(command, bwrap=STATUS.bwrap, cwd=cwd, plan=plan),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=build_child_env(os.environ, sandboxed=True),
            check=False,
        )
    finally:
        if clean:
            remove_placeholders(created, None)


def run_sandboxed(
    command: str, workspace: Path, *, network: bool = False, writable: bool = True
) -> subprocess.CompletedProcess[str]:
    plan = plan_sandbox(
        writable=[workspace] if writable else [],
        read_only=[] if writable else [workspace],
        path_value=os.environ.get("PATH"),
        network=network,
    )
    return run_in(command, plan, workspace)


@needs_bwrap
def test_probe_reports_a_working_bwrap() -> None:
    assert SandboxStatus(True, STATUS.reason, shutil.which("bwrap")) == STATUS
    assert probe_sandbox() is probe_sandbox()  # cached


def test_probe_says_why_when_bwrap_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    try:
        status = probe_sandbox(force=True)
        assert not status.available
        assert status.bwrap is None
        assert "not installed" in status.reason
    finally:
        monkeypatch.undo()
        probe_sandbox(force=True)


def test_probe_never_takes_bwrap_from_a_relative_path_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    planted = tmp_path / "bwrap"
    planted.write_text("#!/bin/sh\ntouch planted-ran\n")
    planted.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f".:{os.environ['PATH']}")
    try:
        status = probe_sandbox(force=True)
        assert status.bwrap != str(planted) and status.bwrap != "./bwrap"
        assert not (tmp_path / "planted-ran").exists()
    finally:
        monkeypatch.undo()
        probe_sandbox(force=True)


def test_argv_is_an_allowlist(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    plan = plan_sandbox(writable=[workspace], read_only=[other], path_value="/usr/bin")
    argv = sandbox_argv("true", bwrap="/usr/bin/bwrap", cwd=workspace, plan=plan)
    joined = " ".join(argv)
    assert "--ro-bind / /" not in joined  # the host root is not mounted
    assert f"--bind {workspace} {workspace}" in joined
    assert f"--ro-bind {other} {other}" in joined
    assert f"--tmpfs {Path.home()}" in joined
    assert "--tmpfs /run" in joined and "--tmpfs /tmp" in joined
    assert "--share-net" not in argv
    assert argv[-3:] == [argv[-3], "-c", "true"]


@needs_bwrap
def test_sv10_writes_outside_the_workspace_fail_and_create_nothing(
    workspace: Path, host_dir: Path
) -> None:
    result = run_sandboxed("echo x > /etc/claw_probe", workspace)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert not Path("/etc/claw_probe").exists()
    for command in (f"echo x > {host_dir}/claw_probe", f"touch {host_dir}/.bashrc"):
        assert run_sandboxed(command, workspace).returncode != 0
    assert not list(host_dir.iterdir())


@needs_bwrap
def test_tmp_is_private(workspace: Path) -> None:
    name = f"/tmp/claw_probe_{uuid.uuid4().hex}"
    result = run_sandboxed(f"echo x > {name} && cat {name}", workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "x\n"
    assert not Path(name).exists()


@needs_bwrap
def test_workspace_writes_work(workspace: Path) -> None:
    result = run_sandboxed("mkdir -p out && echo made > out/new.txt", workspace)
    assert result.returncode == 0, result.stderr
    assert (workspace / "out" / "new.txt").read_text() == "made\n"


@needs_bwrap
def test_a_read_only_plan_writes_nothing(workspace: Path) -> None:
    result = run_sandboxed("echo x > new.txt", workspace, writable=False)
    assert result.returncode != 0 and "Read-only file system" in result.stderr
    assert not (workspace / "new.txt").exists()


@needs_bwrap
def test_protected_git_is_read_only(workspace: Path) -> None:
    result = run_sandboxed("echo evil >> .git/config; touch .git/hooks_probe", workspace)
    assert result.returncode != 0
    assert (workspace / ".git" / "config").read_text() == "[core]\n"
    assert not (workspace / ".git" / "hooks_probe").exists()


@needs_bwrap
def test_missing_protected_names_are_placeholders_removed_afterwards(workspace: Path) -> None:
    before = sorted(os.listdir(workspace))
    result = run_sandboxed(
        "echo x > .envrc; mkdir -p .vscode && echo 1 > .vscode/settings.json;"
        " echo all > Makefile; echo '{}' > package.json; node -e 1 2>/dev/null; echo ok > n.txt",
        workspace,
    )
    assert result.stderr.count("Read-only file system") >= 4, result.stderr
    assert sorted(os.listdir(workspace)) == sorted([*before, "n.txt"])


@needs_bwrap
def test_a_placeholder_group_shows_the_existing_member(workspace: Path) -> None:
    (workspace / "Makefile").write_text("all:\n\t@echo real-makefile\n")
    result = run_sandboxed("cat GNUmakefile; echo x > makefile", workspace)
    assert "real-makefile" in result.stdout and "Read-only" in result.stderr
    assert sorted(os.listdir(workspace)) == [".git", "Makefile", "a.txt"]


def test_a_crashed_servers_placeholders_are_swept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    left = tmp_path / "ws" / ".envrc"
    left.parent.mkdir()
    left.touch()
    ledger = record_placeholders(state, [left])
    assert ledger is not None
    dead = ledger.with_name("999999999-" + ledger.name.split("-", 1)[1])
    ledger.rename(dead)
    sweep_ledgers(state)
    assert not left.exists() and not dead.exists()


@needs_bwrap
def test_home_is_empty_and_claw_dirs_are_hidden(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path("/var/tmp") / f"claw-home-{uuid.uuid4().hex}"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY\n")
    (home / ".config" / "claw-lsp").mkdir(parents=True)
    (home / ".config" / "claw-lsp" / "config.toml").write_text('api_key = "sk-HIDDEN"\n')
    (home / "notes.txt").write_text("home file\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    state = tmp_path / "elsewhere-state"
    state.mkdir()
    (state / "index.json").write_text("session secrets\n")
    try:
        plan = plan_sandbox(writable=[workspace], read_only=[], hidden_dirs=[state])
        result = run_in(
            f"ls -A ~; cat ~/.ssh/id_rsa ~/.config/claw-lsp/config.toml {state}/index.json",
            plan,
            workspace,
        )
        assert result.stdout.strip() == "", result.stdout
        for leaked in ("PRIVATE KEY", "sk-HIDDEN", "session secrets", "notes.txt"):
            assert leaked not in result.stdout + result.stderr
        run_in("touch ~/.bashrc", plan, workspace)
        assert not (home / ".bashrc").exists()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@needs_bwrap
@pytest.mark.parametrize("place", ["/run", "/var/run", "xdg_runtime", "/tmp", "home", "/var/tmp"])
def test_host_sockets_are_unreachable(
    place: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docker.sock, the session bus, agent sockets: a socket outside the workspace is not there."""
    base = {
        "xdg_runtime": Path("/run/user") / f"claw-{uuid.uuid4().hex[:8]}",
        "home": Path.home(),
    }.get(place, Path(place))
    directory = base / f"claw-sock-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    path = directory / "agent.sock"
    if place == "xdg_runtime":
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    try:
        probe = (
            "import socket,sys; s=socket.socket(socket.AF_UNIX);"
            f" sys.exit(0 if s.connect_ex({str(path)!r}) == 0 else 3)"
        )
        result = run_sandboxed(f"/usr/bin/python3 -c {probe!r}", workspace)
        assert result.returncode == 3, result.stderr
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
        shutil.rmtree(directory, ignore_errors=True)
        if place == "xdg_runtime":
            shutil.rmtree(base, ignore_errors=True)


@needs_bwrap
def test_sv09_network_is_refused(workspace: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = run_sandboxed(f"echo hi >/dev/tcp/127.0.0.1/{port}", workspace)
        assert result.returncode != 0
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()


@needs_bwrap
def test_network_can_be_shared_on_request(workspace: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = run_sandboxed(f"echo hi >/dev/tcp/127.0.0.1/{port}", workspace, network=True)
        assert result.returncode == 0, result.stderr
        connection, _ = listener.accept()
        connection.close()


@needs_bwrap
def test_sv14_no_new_privs_and_no_capabilities(workspace: Path) -> None:
    result = run_sandboxed("grep -E 'NoNewPrivs|CapEff' /proc/self/status", workspace)
    assert result.returncode == 0, result.stderr
    assert "NoNewPrivs:\t1" in result.stdout
    assert "CapEff:\t0000000000000000" in result.stdout
