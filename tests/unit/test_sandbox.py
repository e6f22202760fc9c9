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


def run_sandboxed(
    command: str,
    workspace: Path,
    *,
    hidden: tuple[Path, ...] = (),
    network: bool = False,
) -> subprocess.CompletedProcess[str]:
    assert STATUS.bwrap is not None
    argv = sandbox_argv(
        command,
        bwrap=STATUS.bwrap,
        cwd=workspace,
        writable_roots=[workspace],
        read_only_paths=[workspace / ".git", workspace / ".vscode"],  # .vscode is missing
        hidden_paths=hidden,
        network=network,
    )
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=build_child_env(os.environ),
        check=False,
    )


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


def test_argv_binds_only_existing_paths(workspace: Path) -> None:
    argv = sandbox_argv(
        "true",
        bwrap="/usr/bin/bwrap",
        cwd=workspace,
        writable_roots=[workspace],
        read_only_paths=[workspace / ".git", workspace / "missing"],
    )
    assert ["--bind", str(workspace), str(workspace)] == argv[argv.index("--bind") :][:3]
    assert str(workspace / "missing") not in argv
    assert "--share-net" not in argv
    assert argv[-3:] == [argv[-3], "-c", "true"]


@needs_bwrap
def test_sv10_writes_outside_the_workspace_fail_and_create_nothing(
    workspace: Path, host_dir: Path
) -> None:
    target = host_dir / "claw_probe"
    result = run_sandboxed(f"echo x > {target}", workspace)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert not target.exists()
    touched = run_sandboxed(f"touch {host_dir}/.bashrc", workspace)
    assert touched.returncode != 0
    assert not (host_dir / ".bashrc").exists()


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
def test_protected_git_is_read_only(workspace: Path) -> None:
    result = run_sandboxed("echo evil >> .git/config; touch .git/hooks_probe", workspace)
    assert result.returncode != 0
    assert (workspace / ".git" / "config").read_text() == "[core]\n"
    assert not (workspace / ".git" / "hooks_probe").exists()


@needs_bwrap
def test_hidden_paths_are_masked(workspace: Path, host_dir: Path) -> None:
    ssh = host_dir / ".ssh"
    ssh.mkdir()
    (ssh / "id_rsa").write_text("PRIVATE KEY\n")
    netrc = host_dir / ".netrc"
    netrc.write_text("machine x password hunter2\n")
    result = run_sandboxed(
        f"ls -A {ssh}; cat {netrc}; cat {ssh}/id_rsa", workspace, hidden=(ssh, netrc)
    )
    assert "PRIVATE KEY" not in result.stdout
    assert "hunter2" not in result.stdout
    assert "id_rsa" not in result.stdout
    write = run_sandboxed(f"touch {ssh}/authorized_keys", workspace, hidden=(ssh,))
    assert write.returncode != 0
    assert not (ssh / "authorized_keys").exists()


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
