"""Run every benchmark once, side by side, and write bench/results.md.

    .venv/bin/python -m bench.run [--quick] [--out PATH] [--keep]

Not part of the test suite: nothing here asserts a timing; missed goals are reported."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import REPO, Scratch, small_workspace
from bench.report import Section, build_report

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Rounds:
    startup: int = 7
    loop: int = 3
    search: int = 3

    @classmethod
    def quick(cls) -> Rounds:
        return cls(startup=2, loop=1, search=1)


@dataclass
class RunContext:
    scratch: Scratch
    workspace: Path
    rounds: Rounds
    profile_dir: Path
    results: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)


async def _section(ctx: RunContext, name: str, work: Callable[[], Awaitable[Any]]) -> None:
    """One benchmark; a failure is reported in the table, the others still run."""
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        ctx.results[name] = await work()
        error = None
    except Exception as exc:  # a broken benchmark must not hide the other results
        error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    elapsed = time.perf_counter() - started
    ctx.sections.append(Section(name, elapsed, error))
    print(f"[bench] {name}: {elapsed:.1f} s", file=sys.stderr, flush=True)


async def run_all(ctx: RunContext) -> None:
    from bench.agent import measure_loop, measure_prompt
    from bench.responsiveness import measure_responsiveness
    from bench.search import measure_search
    from bench.sessions import measure_sessions
    from bench.startup import measure_startup

    # Nothing listens on port 9: start-up never talks to the model.
    await _section(
        ctx,
        "startup",
        lambda: measure_startup(
            ctx.scratch, ctx.workspace, "http://127.0.0.1:9/v1", ctx.rounds.startup
        ),
    )
    await _section(ctx, "prompt", lambda: measure_prompt(ctx.scratch, ctx.workspace))
    await _section(
        ctx,
        "loop",
        lambda: measure_loop(ctx.scratch, ctx.workspace, ctx.rounds.loop, ctx.profile_dir),
    )
    await _section(
        ctx,
        "responsiveness",
        lambda: measure_responsiveness(ctx.scratch, ctx.workspace, ctx.profile_dir),
    )
    await _section(
        ctx,
        "search",
        lambda: measure_search(
            ctx.scratch.root / "tree",
            ctx.scratch.dir("search-state"),
            ctx.rounds.search,
            ctx.profile_dir,
        ),
    )
    await _section(ctx, "sessions", lambda: measure_sessions(ctx.scratch, ctx.workspace))


def machine_description() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- CPU: {os.cpu_count()} cores ({cpu})",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- OS: {platform.platform()}",
        f"- Load average when the run ended (1/5/15 min): {load}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    scratch_root = Path(tempfile.mkdtemp(prefix="claw-bench-"))
    ctx = RunContext(
        scratch=Scratch(scratch_root),
        workspace=small_workspace(scratch_root / "ws"),
        rounds=Rounds.quick() if args.quick else Rounds(),
        profile_dir=BENCH_DIR / "profiles",
    )
    started = time.perf_counter()
    try:
        asyncio.run(run_all(ctx))
    finally:
        if args.keep:
            print(f"[bench] scratch kept in {scratch_root}", file=sys.stderr)
        else:
            cleanup_started = time.perf_counter()
            shutil.rmtree(scratch_root, ignore_errors=True)
            cleanup_s = time.perf_counter() - cleanup_started
            print(f"[bench] removed the scratch dir in {cleanup_s:.1f} s", file=sys.stderr)
    total = time.perf_counter() - started
    header = [
        "# claw-lsp benchmark results",
        "",
        f"Produced by `.venv/bin/python -m bench.run{' --quick' if args.quick else ''}` on "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M')} in {total:.0f} s.",
        "",
        *machine_description(),
    ]
    table, text = build_report(ctx.results, ctx.sections, header, ctx.profile_dir, REPO)
    args.out.write_text(text)
    print(table)
    print(f"\n[bench] full report: {args.out}", file=sys.stderr)
    return 0 if all(section.error is None for section in ctx.sections) else 1


if __name__ == "__main__":
    raise SystemExit(main())
