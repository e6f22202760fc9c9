"""Run one child process safely: bounded output, a hard deadline, and nothing left behind.

The child gets its own process group (start_new_session), stdin from /dev/null and merged
stdout/stderr read in chunks, so output without newlines cannot stall us (RE-05). When the
deadline passes, the task is cancelled, or the main process exits, the whole group is killed:
SIGTERM, a short grace, then SIGKILL. Processes that leave the group (setsid, daemonize) escape
this; the sandbox's PID namespace (--die-with-parent) is what catches those.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_CHUNK_BYTES = 64 * 1024
_TERM_GRACE_S = 2.0
_POLL_S = 0.05
_DRAIN_AFTER_EXIT_S = 1.0

# Root ignores RLIMIT_NPROC (CAP_SYS_RESOURCE), so a fork bomb run as root is only contained by
# the sandbox's PID namespace being torn down with the group, or by a cgroup pids limit.
_NPROC_HEADROOM = 512
_FSIZE_BYTES = 1 << 30
_AS_BYTES = 4 << 30


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
) -> ProcessResult:
    if not argv:
        raise ValueError("argv must not be empty")
    started = time.monotonic()
    deadline = started + max(timeout_s, 0.0)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_limits_setter() if rlimits else None,
    )
    group = process.pid  # the child leads its own new session and process group
    buffer = _CappedBuffer(output_cap)
    timed_out = False
    killed = False
    try:
        timed_out = not await _pump(process, buffer, deadline)
        if timed_out:
            killed = True
            await _kill_group(group, process)
        else:
            # The main process exited: drain what its leftovers already wrote, then end them.
            with contextlib.suppress(TimeoutError):
                await _drain(process, buffer, min(deadline, time.monotonic() + _DRAIN_AFTER_EXIT_S))
            await _kill_group(group, process)
    except BaseException:
        killed = True
        await asyncio.shield(_kill_group(group, process))
        raise
    exit_code = None if killed else process.returncode
    return ProcessResult(
        exit_code=exit_code,
        output=buffer.text(),
        truncated=buffer.truncated,
        timed_out=timed_out,
        total_bytes=buffer.total,
        duration_s=time.monotonic() - started,
    )


async def _pump(
    process: asyncio.subprocess.Process, buffer: _CappedBuffer, deadline: float
) -> bool:
    """Reads until the main process exits or the deadline passes; True if it exited in time."""
    assert process.stdout is not None
    wait_task = asyncio.ensure_future(process.wait())
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            read_task = asyncio.ensure_future(process.stdout.read(_CHUNK_BYTES))
            done, _ = await asyncio.wait(
                {read_task, wait_task}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            chunk = await _settle(read_task)
            if chunk:
                buffer.add(chunk)
                continue
            if chunk == b"":  # EOF: every writer closed the pipe; wait for the exit status
                remaining = max(deadline - time.monotonic(), 0)
                done, _ = await asyncio.wait({wait_task}, timeout=remaining)
                return bool(done)
            # A leftover background child may hold the pipe open after the main process exited.
            return wait_task in done
    finally:
        await _settle(wait_task)


async def _settle(task: asyncio.Future[bytes] | asyncio.Future[int]) -> bytes | None:
    """The result of a finished read task, or None after cancelling an unfinished one."""
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    if task.cancelled():
        return None
    result = task.result()
    return result if isinstance(result, bytes) else None


async def _drain(process: asyncio.subprocess.Process, buffer: _CappedBuffer, until: float) -> None:
    assert process.stdout is not None
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        async with asyncio.timeout(remaining):
            chunk = await process.stdout.read(_CHUNK_BYTES)
        if not chunk:
            return
        buffer.add(chunk)


async def _kill_group(group: int, process: asyncio.subprocess.Process) -> None:
    """SIGTERM the group, wait a short grace for it to go, then SIGKILL; reap the main process."""
    if _group_alive(group):
        _signal_group(group, signal.SIGTERM)
        if not await _wait_until_gone(group, _TERM_GRACE_S):
            _signal_group(group, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    await _wait_until_gone(group, _TERM_GRACE_S)


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
