"""Run one child process safely: bounded output, a hard deadline, and nothing left behind.

The child gets its own process group (start_new_session), stdin from /dev/null and merged
stdout/stderr read in chunks, so output without newlines cannot stall us (RE-05). When the
deadline passes, the task is cancelled, or the main process exits, the whole group is killed:
SIGTERM, a short grace, then SIGKILL. Processes that leave the group (setsid, nohup with a
double fork, daemons, bwrap's sandbox after --new-session) are caught by `subreaper=True`:
the command then runs under reaper.py, a child subreaper that kills every descendant when the
command ends or the reaper is stopped, so no leftover holds the output pipe open. Under bwrap
the sandbox's PID namespace does it too once set up; during set-up only the reaper does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK_BYTES = 64 * 1024
_TERM_GRACE_S = 2.0
_POLL_S = 0.05
_DRAIN_AFTER_EXIT_S = 1.0

# Root ignores RLIMIT_NPROC (CAP_SYS_RESOURCE), so a fork bomb run as root is only contained by
# the sandbox's PID namespace being torn down with the group, or by a cgroup pids limit.
_NPROC_HEADROOM = 512
_FSIZE_BYTES = 1 << 30
_AS_BYTES = 4 << 30
REAPER = Path(__file__).with_name("reaper.py")


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when we killed it; negative: killed by that signal
    output: str
    truncated: bool
    timed_out: bool
    total_bytes: int
    duration_s: float


class _CappedBuffer:
    """Keeps the first and last `cap // 2` bytes; counts everything."""

    def __init__(self, cap: int) -> None:
        self._head_cap = max(cap // 2, 0)
        self._tail_cap = max(cap - self._head_cap, 0)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk and self._tail_cap:
            self._tail += chunk
            if len(self._tail) > self._tail_cap:
                del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def truncated(self) -> bool:
        return self.total > len(self._head) + len(self._tail)

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail
        omitted = self.total - len(self._head) - len(self._tail)
        return f"{head}\n[... {omitted} bytes omitted ...]\n{tail}"


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    output_cap: int = 30_000,
    rlimits: bool = True,
    subreaper: bool = False,
) -> ProcessResult:
    if not argv:
        raise ValueError("argv must not be empty")
    if subreaper:
        argv = [sys.executable, "-I", "-S", str(REAPER), *argv]
        env = {**env, "CLAW_LSP_REAPER_PARENT": str(os.getpid())}
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    # Popen rather than asyncio's subprocess: in 3.11 Process.wait() does not return until every
    # pipe closes, so a background child holding stdout would hide the main process's exit.
    popen = subprocess.Popen(  # noqa: ASYNC220 - fork+exec is quick; see the comment above
        list(argv),
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_limits_setter() if rlimits else None,
    )
    group = popen.pid  # the child leads its own new session and process group
    buffer = _CappedBuffer(output_cap)
    assert popen.stdout is not None
    reader = _PipeReader(popen.stdout.fileno(), buffer, loop)
    exit_watch = _ExitWatch(popen, loop)
    killed = False
    try:
        finished = await _within(exit_watch.future, max(timeout_s, 0.0))
        killed = not finished
        # Whatever is left in the group now is a leftover (`x &`) or the timed-out command.
        await _kill_group(group, exit_watch)
        await _within(reader.eof, _DRAIN_AFTER_EXIT_S)
    except BaseException:
        killed = True
        await asyncio.shield(_kill_group(group, exit_watch))
        raise
    finally:
        reader.close()
        exit_watch.close()
        popen.stdout.close()
    return ProcessResult(
        exit_code=None if killed else popen.returncode,
        output=buffer.text(),
        truncated=buffer.truncated,
        timed_out=killed,
        total_bytes=buffer.total,
        duration_s=time.monotonic() - started,
    )


async def _within(future: asyncio.Future[Any], seconds: float) -> bool:
    """Waits for `future` without cancelling it; True when it finished in time."""
    if not future.done():
        await asyncio.wait({future}, timeout=seconds)
    return future.done()


class _PipeReader:
    """Reads the merged output in chunks as it arrives (never line by line) until EOF."""

    def __init__(self, fd: int, buffer: _CappedBuffer, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._buffer = buffer
        self._loop = loop
        self.eof: asyncio.Future[None] = loop.create_future()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._fd, _CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._buffer.add(chunk)
            return
        self.close()

    def close(self) -> None:
        self._loop.remove_reader(self._fd)
        if not self.eof.done():
            self.eof.set_result(None)


class _ExitWatch:
    """Resolves `future` with the exit code once the main process exits (pidfd, else polling)."""

    def __init__(self, popen: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._popen = popen
        self._loop = loop
        self.future: asyncio.Future[int] = loop.create_future()
        self._pidfd: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        try:
            self._pidfd = os.pidfd_open(popen.pid)
            loop.add_reader(self._pidfd, self._check)
        except (AttributeError, OSError):
            self._schedule_poll()
        self._check()

    def _schedule_poll(self) -> None:
        self._timer = self._loop.call_later(_POLL_S, self._poll)

    def _poll(self) -> None:
        self._check()
        if not self.future.done():
            self._schedule_poll()

    def _check(self) -> None:
        code = self._popen.poll()  # reaps the main process when it has exited
        if code is not None and not self.future.done():
            self.future.set_result(code)
            self.close()

    def close(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def _kill_group(group: int, exit_watch: _ExitWatch) -> None:
    """SIGTERM the group, wait a short grace for it to go, then SIGKILL; reap the main process."""
    if _group_alive(group):
        _signal_group(group, signal.SIGTERM)
        if not await _wait_until_gone(group, _TERM_GRACE_S):
            _signal_group(group, signal.SIGKILL)
            await _wait_until_gone(group, _TERM_GRACE_S)
    await _within(exit_watch.future, _TERM_GRACE_S)


async def _wait_until_gone(group: int, seconds: float) -> bool:
    # Polling: there is no event for "a process we are not the parent of has exited".
    for _ in range(max(1, int(seconds / _POLL_S))):
        if not _group_alive(group):
            return True
        await asyncio.sleep(_POLL_S)
    return not _group_alive(group)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    """True while a member of the group is running; zombies do not count (init reaps them late)."""
    return bool(live_group_members(group))


def live_group_members(group: int) -> list[int]:
    """PIDs in process group `group` that are not zombies (from /proc)."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[2] == str(group) and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


def _limits_setter() -> Callable[[], None]:
    """The preexec hook; what it needs is computed here, before fork, not in the child."""
    nproc = _nproc_limit()

    def apply() -> None:
        for limit, value in (
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_FSIZE, _FSIZE_BYTES),
            (resource.RLIMIT_AS, _AS_BYTES),
            (resource.RLIMIT_NPROC, nproc),
        ):
            _lower(limit, value)

    return apply


def _lower(limit: int, value: int) -> None:
    soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or value < soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, hard))


def _nproc_limit() -> int:
    """RLIMIT_NPROC counts every process of the user, so allow what runs now plus headroom."""
    uid = os.getuid()
    count = 0
    try:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    if os.stat(f"/proc/{entry}").st_uid == uid:
                        count += 1
    except OSError:
        return 4096
    return count + _NPROC_HEADROOM
