"""bubblewrap sandbox for shell commands: the real boundary behind shell vetting.

An allowlist, not a read-only copy of the host: inside are the system directories read-only
(/usr, /etc, /opt, /sys and the /bin, /lib links), a private /tmp, /var/tmp and /run (so no
host socket under /run, $XDG_RUNTIME_DIR or /var/run/docker.sock is reachable), an empty
$HOME with only the toolchains the PATH runs from, and the workspace folders: writable only
where the tier allows it, with protected paths read-only (sandbox_plan.py). claw-lsp's own
config and state directories and credential stores are hidden. No network unless asked, a new
PID/IPC/UTS namespace, no capabilities and no_new_privs (bwrap always sets it).

When bwrap is missing or refused (no user namespaces, a locked-down container) the probe says
why, and callers must fall back to asking for every command, never to running unsandboxed.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from claw_lsp.permissions.programs import inside_any, trusted_which
from claw_lsp.permissions.sandbox_plan import SandboxPlan, placeholder_source

_PROBE_TIMEOUT_S = 10.0
_probe_lock = threading.Lock()
_cached: SandboxStatus | None = None

SYSTEM_DIRS = ("/usr", "/etc", "/opt", "/nix", "/snap")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str  # why not, or what was checked
    bwrap: str | None


def probe_sandbox(force: bool = False) -> SandboxStatus:
    """Really runs bwrap once with the same isolation flags real commands get (cached)."""
    global _cached
    with _probe_lock:
        stale = _cached is not None and _cached.bwrap is not None and inside_any(_cached.bwrap)
        if _cached is None or force or stale:
            _cached = _probe()
        return _cached


def _probe() -> SandboxStatus:
    # Never a bwrap from a relative PATH entry: that is the repository's choice, not ours.
    bwrap = trusted_which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, "bubblewrap (bwrap) is not installed", None)
    shell = shell_path()
    argv = sandbox_argv("exit 0", bwrap=bwrap, cwd=Path("/"), plan=SandboxPlan())
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


def shell_path() -> str:
    return "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


def sandbox_argv(command: str, *, bwrap: str, cwd: Path, plan: SandboxPlan) -> list[str]:
    """The bwrap argv that runs `command` with bash -c. Later mounts override earlier ones;
    bwrap resolves every mount source on the host, so the order below is the layering."""
    argv = [bwrap, "--unshare-all"]
    if plan.network:
        argv += ["--share-net"]
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for directory in SYSTEM_DIRS:
        if os.path.isdir(directory) and not os.path.islink(directory):
            argv += ["--ro-bind", directory, directory]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            argv += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            argv += ["--ro-bind", link, link]
    argv += ["--ro-bind-try", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev"]
    argv += ["--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run"]
    argv += ["--symlink", "../run", "/var/run"]
    if plan.network:
        argv += _resolver_binds()
    if plan.home != Path("/"):
        argv += ["--tmpfs", str(plan.home)]
    for path in plan.home_binds:
        argv += ["--ro-bind", str(path), str(path)]
    roots = sorted(
        [(p, False) for p in plan.read_only] + [(p, True) for p in plan.writable],
        key=lambda item: len(item[0].parts),
    )
    for root, writable in roots:
        argv += ["--bind" if writable else "--ro-bind", str(root), str(root)]
    for path in plan.protected:
        if os.path.lexists(path):
            argv += ["--ro-bind", str(path), str(path)]
    for placeholder in plan.placeholders:
        target = str(placeholder.path)
        if os.path.lexists(target):
            continue
        if placeholder.is_dir:
            argv += ["--tmpfs", target, "--remount-ro", target]
        else:
            source = placeholder.source or placeholder_source(placeholder.path.name)
            argv += ["--ro-bind", str(source), target]
    for path in plan.hidden:
        if os.path.isdir(path) and not os.path.islink(path):
            argv += ["--tmpfs", str(path), "--remount-ro", str(path)]
        elif os.path.lexists(path):
            argv += ["--ro-bind", "/dev/null", str(path)]
    argv += ["--chdir", str(cwd), "--", shell_path(), "-c", command]
    return argv


def _resolver_binds() -> list[str]:
    """With network on, /etc/resolv.conf may point into /run (systemd-resolved)."""
    target = os.path.realpath("/etc/resolv.conf")
    if target.startswith("/run/") and os.path.exists(target):
        directory = os.path.dirname(target)
        return ["--ro-bind", directory, directory]
    return []
