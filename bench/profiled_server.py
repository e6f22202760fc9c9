"""claw-lsp under pyinstrument, profiling only between SIGUSR1 (start) and SIGUSR2 (stop).

The server leaves through os._exit, so a profiler wrapped around the whole process would never
write its report; signals let the benchmark profile exactly the window it measures."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

from pyinstrument import Profiler

PROFILE_ENV = "CLAW_BENCH_PROFILE_OUT"
# With PYTHONASYNCIODEBUG=1, asyncio logs every loop step longer than this (default 0.1 s): it
# names the task that kept the loop from answering requests.
SLOW_STEP_ENV = "CLAW_BENCH_SLOW_STEP_S"
_profiler: Profiler | None = None


def _start(signum: int, frame: FrameType | None) -> None:
    global _profiler
    # async_mode disabled: time awaiting I/O shows up as the event loop's select (idle).
    _profiler = Profiler(interval=0.0005, async_mode="disabled")
    _profiler.start()


def _stop(signum: int, frame: FrameType | None) -> None:
    if _profiler is None:
        return
    session = _profiler.stop()
    target = Path(os.environ[PROFILE_ENV])
    partial = target.with_suffix(".partial")
    session.save(str(partial))
    partial.rename(target)


def _lower_slow_step_threshold(seconds: float) -> None:
    import asyncio.base_events

    original_init = asyncio.base_events.BaseEventLoop.__init__

    def init(self: asyncio.base_events.BaseEventLoop) -> None:
        original_init(self)
        self.slow_callback_duration = seconds

    asyncio.base_events.BaseEventLoop.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    if os.environ.get(SLOW_STEP_ENV):
        _lower_slow_step_threshold(float(os.environ[SLOW_STEP_ENV]))
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    from claw_lsp.cli import main as claw_main

    raise SystemExit(claw_main([]))


if __name__ == "__main__":
    main()
