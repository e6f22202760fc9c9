"""bubblewrap sandbox for shell commands: the real boundary behind shell vetting.

Inside: the whole filesystem read-only, a private /tmp, the workspace roots writable except the
protected paths the caller names (.git, .vscode, ...), credential stores hidden, no network
unless asked, a new PID/IPC/UTS namespace, no capabilities and no_new_privs (bwrap always sets
it). When bwrap is missing or refused (no user namespaces, a locked-down container) the probe
says why, and callers must fall back to asking for every command, never to running unsandboxed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PROBE_TIMEOUT_S = 10.0
_probe_lock = threading.Lock()
_cached: SandboxStatus | None = None


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str  # why not, or what was checked
    bwrap: str | None


def probe_sandbox(force: bool = False) -> SandboxStatus:
    """Really runs bwrap once with the same isolation flags real commands get (cached)."""
    global _cached
    with _probe_lock:
        if _cached is None or force:
            _cached = _probe()
        return _cached


def _probe() -> SandboxStatus:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, "bubblewrap (bwrap) is not installed", None)
    shell = _shell()
    argv = sandbox_argv("exit 0", bwrap=bwrap, cwd=Path("/"), writable_roots=())
    try:
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"bwrap could not start: {type(error).__name__}", bwrap)
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        why = detail[-1][:200] if detail else f"exit code {completed.returncode}"
        return SandboxStatus(False, f"bwrap refused to run ({why})", bwrap)
    return SandboxStatus(True, f"bwrap works ({bwrap}, shell {shell})", bwrap)


def _shell() -> str:
    return "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


def sandbox_argv(
    command: str,
    *,
    bwrap: str,
    cwd: Path,
    writable_roots: Sequence[Path],
    read_only_paths: Sequence[Path] = (),
    hidden_paths: Sequence[Path] = (),
    network: bool = False,
) -> list[str]:
    """The bwrap argv that runs `command` with bash -c. Later mounts override earlier ones."""
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    # bwrap resolves mount sources on the host, so a root under /tmp still binds after the tmpfs.
    for root in _existing(writable_roots):
        argv += ["--bind", root, root]
    for path in _existing(read_only_paths):
        argv += ["--ro-bind", path, path]
    for path in _existing(hidden_paths):
        if os.path.isdir(path):
            argv += ["--tmpfs", path, "--remount-ro", path]
        else:
            argv += ["--ro-bind", "/dev/null", path]
    argv += ["--unshare-all"]
    if network:
        argv += ["--share-net"]
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--chdir", str(cwd), "--", _shell(), "-c", command]
    return argv


def _existing(paths: Sequence[Path]) -> list[str]:
    """Absolute, symlink-free paths that exist (bwrap fails on a missing mount source)."""
    seen: dict[str, None] = {}
    for path in paths:
        real = os.path.realpath(os.path.expanduser(str(path)))
        if os.path.lexists(real):
            seen[real] = None
    return list(seen)
