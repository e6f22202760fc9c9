"""Rule 7 at every point of a command's life, sandbox set-up included: a cancel that lands
while the outer `bwrap` is still setting the sandbox up must end the sandboxed shell and
everything it started, as a cancel of the running command does.

The race this pins down: the outer bwrap dies from the cancel's SIGTERM before the sandbox's
first process has armed `--die-with-parent`, and that process has already left the command's
process group (`--new-session`); the command then ran to its own end. The real shell tool
runs here through the Orchestrator with real bwrap; the cancel lands after a spread of delays
and, separately, as soon as a bwrap of the command appears. Each command is told apart by a
unique `sleep` duration in its argv; the deadlines are generous, never timing thresholds."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from tests.security.conftest import Harness, needs_bwrap

pytestmark = [pytest.mark.sandbox, needs_bwrap, pytest.mark.usefixtures("no_orphans")]

_serial = itertools.count(1)
GONE_DEADLINE_S = 20.0  # the kill is asynchronous; wait for it, generously
APPEAR_DEADLINE_S = 60.0


def _marker() -> str:
    """A sleep duration nobody else on the machine runs: the command's own fingerprint."""
    return f"300.{os.getpid()}{next(_serial):04d}"


def _processes_with(marker: str) -> dict[int, str]:
    """Live processes whose argv names the marker: the outer bwrap, the sandbox's own
    processes (they share its argv), bash and the sleep."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in argv and state not in (b"Z", b"X"):
            found[int(entry)] = argv
    return found


async def _until_gone(marker: str) -> dict[int, str]:
    deadline = time.monotonic() + GONE_DEADLINE_S
    left = _processes_with(marker)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        left = _processes_with(marker)
    for pid in left:  # leave the machine clean, then fail
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


def _shell(harness: Harness, marker: str) -> asyncio.Task[object]:
    command = f"sleep {marker}; echo finished"
    return asyncio.ensure_future(
        harness.call("shell", {"command": command, "timeout_s": 600}, "once")
    )


async def _cancelled(task: asyncio.Task[object]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)


@pytest.fixture
def sandboxed(ws: Path, tmp_path: Path) -> Harness:
    return Harness([ws], state_dir=tmp_path / "state", tier=Tier.SHELL)


@pytest.mark.parametrize("delay_ms", [0, 1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 75, 100])
async def test_a_cancel_at_any_point_of_sandbox_start_up_ends_the_whole_tree(
    sandboxed: Harness, delay_ms: int
) -> None:
    marker = _marker()
    task = _shell(sandboxed, marker)
    await asyncio.sleep(delay_ms / 1000)
    await _cancelled(task)
    assert not await _until_gone(marker), "a process of the cancelled command survived"


@pytest.mark.parametrize("attempt", range(12))
async def test_a_cancel_as_soon_as_bwrap_appears_ends_the_whole_tree(
    sandboxed: Harness, attempt: int
) -> None:
    marker = _marker()
    task = _shell(sandboxed, marker)
    deadline = time.monotonic() + APPEAR_DEADLINE_S
    while not any("bwrap" in argv for argv in _processes_with(marker).values()):
        assert time.monotonic() < deadline, "bwrap never started"
        assert not task.done(), task.result()
        await asyncio.sleep(0)  # the event loop runs the tool; poll as often as it allows
    await _cancelled(task)
    assert not await _until_gone(marker), "a process of the cancelled command survived"


async def test_after_a_start_up_cancel_the_next_command_runs(sandboxed: Harness) -> None:
    """The cancel left nothing half-done behind: the same harness runs a command to its end."""
    task = _shell(sandboxed, _marker())
    await asyncio.sleep(0.005)
    await _cancelled(task)
    result = await asyncio.wait_for(
        sandboxed.call("shell", {"command": "echo still-working", "timeout_s": 60}, "once"), 120
    )
    assert "still-working" in result.content, result.content
