"""The tables of bench/overhead.py: medians per client, ratios to the floor of the same run."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence

from bench.overhead import SETTLE_S, STEPS_PER_TURN, TURNS, Session, Startup
from bench.run import machine_description
from bench.stats import fmt_ms

Metric = Callable[[list[Session]], float]


def _pooled(sessions: list[Session], values: Callable[[Session], Sequence[float]]) -> float:
    return statistics.median([v for s in sessions for v in values(s)])


def _wall(sessions: list[Session]) -> float:
    return _pooled(sessions, Session.walls) * 1000


def _gap(sessions: list[Session]) -> float:
    return _pooled(sessions, lambda s: [g for _, g in s.gaps()]) * 1000


def _slope(sessions: list[Session]) -> float:
    return statistics.median(s.slope_us_per_message() for s in sessions)


def _bytes(sessions: list[Session]) -> float:
    return statistics.median(sum(s.body_bytes) for s in sessions)


def _first(sessions: list[Session]) -> float:
    return statistics.median(s.first_request_s() for s in sessions) * 1000


def _connections(sessions: list[Session]) -> str:
    counts = sorted({c for s in sessions for c in s.connections_per_turn()})
    return "/".join(str(c) for c in counts)


ROWS: list[tuple[str, Metric, str, float | None]] = [
    ("per-step wall (median)", _wall, "ms", 1.5),
    ("client gap: reply flushed -> next request (median)", _gap, "ms", 2.0),
    ("growth of the gap per message of history (slope)", _slope, "us/msg", 2.0),
    (f"bytes sent over {TURNS * STEPS_PER_TURN} steps", _bytes, "B", None),
    ("first model request from spawn (median)", _first, "ms", None),
]


def _value(value: float, unit: str) -> str:
    if unit == "ms":
        return fmt_ms(value)
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    return f"{value:.1f} {unit}"


def session_table(sessions: dict[str, list[Session]]) -> list[str]:
    names = ["floor", *[n for n in sessions if n != "floor"]]
    lines = [
        "| Metric | " + " | ".join(names) + " | goal (x floor) |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for label, metric, unit, goal in ROWS:
        floor = metric(sessions["floor"])
        cells = []
        for name in names:
            value = metric(sessions[name])
            ratio = f" ({value / floor:.2f}x)" if name != "floor" and floor > 0 else ""
            cells.append(_value(value, unit) + ratio)
        goal_text = f"<= {goal}x" if goal is not None else "info"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {goal_text} |")
    connections = [_connections(sessions[n]) for n in names]
    lines.append("| connections per turn | " + " | ".join(connections) + " | 1 |")
    return lines


def _median_ms(samples: Sequence[float]) -> str:
    return fmt_ms(statistics.median(samples) * 1000) if samples else "n/a"


def startup_table(startup: Startup) -> list[str]:
    minimal = statistics.median(startup.init_s["minimal pygls"])
    lines = [
        "| Start-up | " + " | ".join(startup.init_s) + " | goal |",
        "|---|" + "---|" * (len(startup.init_s) + 1),
    ]
    inits = []
    for samples in startup.init_s.values():
        value = statistics.median(samples)
        inits.append(f"{fmt_ms(value * 1000)} ({value / minimal:.2f}x)")
    lines.append(
        "| initialize response from spawn (x minimal pygls) | " + " | ".join(inits) + " | <= 1.2x |"
    )
    rss = [f"{statistics.median(v) / 1024:.1f} MB" for v in startup.idle_kb.values()]
    lines.append(f"| idle RSS {SETTLE_S} s after initialize | " + " | ".join(rss) + " | <= 80 MB |")
    for label, bucket, goal in (
        (
            "first claw.ask: ask sent -> its model request, right after initialize",
            startup.ask_at_once_s,
            "info",
        ),
        (
            f"first claw.ask: ask sent -> its model request, {SETTLE_S} s after initialize",
            startup.ask_after_idle_s,
            "<= 150 ms",
        ),
    ):
        cells = [_median_ms(bucket.get(name, [])) for name in startup.init_s]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")
    return lines


def render(
    sessions: dict[str, list[Session]], startup: Startup, args: argparse.Namespace, total_s: float
) -> str:
    rounds = len(sessions["floor"])
    return "\n".join(
        [
            "# Overhead toward the floor (issue 22)",
            "",
            f"Produced by `python -m bench.overhead"
            f"{f' --base {args.base}' if args.base else ''} --rounds {args.rounds}` in "
            f"{total_s:.0f} s; {rounds} recorded session(s) per client, each {TURNS} turns of "
            f"{STEPS_PER_TURN} read_file steps (+ the answer), interleaved; medians; ratios are "
            "to the floor of the same run.",
            "",
            *machine_description(),
            "",
            *session_table(sessions),
            "",
            "Start-up (claw.ask's request also waits for GET /models, the context-window probe):",
            "",
            *startup_table(startup),
            "",
        ]
    )
