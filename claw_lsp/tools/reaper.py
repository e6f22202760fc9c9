"""Runs one command so that nothing it starts outlives it, without a sandbox.

Started as `python -I -S reaper.py ARGV...` (standard library only, no claw_lsp import). It
makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): every process the command starts and
orphans, through `&`, `nohup`, `setsid` or a double fork, is re-parented to this process
instead of init, so it stays findable. When the command exits, or this process is asked to
stop (SIGTERM/SIGINT/SIGHUP, or its parent, the server, dies: PR_SET_PDEATHSIG), it kills every
descendant and reaps them, then exits with the command's status. Sandboxed commands run under
it too: bwrap's PID namespace ends the tree once the sandbox is up, but a cancel during its
set-up kills the outer bwrap before the sandbox's first process has armed --die-with-parent
(it has left the process group by then, --new-session); that process is re-parented here.
What it cannot catch: processes started on the command's behalf by someone else (a systemd
user unit, a docker daemon, `at`), which are not its descendants.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_MAX_ROUNDS = 10_000


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 2 and fields[0] not in ("Z", "X"):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree() -> None:
    """SIGKILL every descendant until none is left, reaping what is re-parented to us."""
    me = os.getpid()
    for _ in range(_MAX_ROUNDS):
        for pid in descendants(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            if not descendants(me):
                return


def main(argv: list[str]) -> int:
    if not argv:
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    expected_parent = os.environ.pop("CLAW_LSP_REAPER_PARENT", "")
    if expected_parent.isdigit() and os.getppid() != int(expected_parent):
        return 125  # the server died before PR_SET_PDEATHSIG took effect
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _on_stop)
    try:
        child = os.fork()
        if child == 0:
            for signum in _STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        status = _wait_for(child)
    except _Stop as stop:
        kill_tree()
        return 128 + stop.signum
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)  # the cleanup below must not be interrupted
    kill_tree()
    if os.WIFSIGNALED(status):
        died_of = os.WTERMSIG(status)
        try:
            signal.signal(died_of, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL and SIGSTOP are already the default
        os.kill(os.getpid(), died_of)  # report the same death to our parent
        return 128 + died_of
    return os.waitstatus_to_exitcode(status)


def _wait_for(child: int) -> int:
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
