"""Small statistics and formatting helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the results table."""

    metric: str
    value: str
    goal: str
    met: bool | None  # None: informational, no goal

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "info"
        return "met" if self.met else "MISSED"


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: with few samples p99 is the maximum, never an interpolation."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def summary_ms(samples_s: Sequence[float]) -> str:
    """'median X ms (min A, max B, n=N)' for samples in seconds."""
    ms = [s * 1000 for s in samples_s]
    return (
        f"median {fmt_ms(statistics.median(ms))} (min {fmt_ms(min(ms))}, "
        f"max {fmt_ms(max(ms))}, n={len(ms)})"
    )


def fmt_ms(value_ms: float) -> str:
    if value_ms >= 100:
        return f"{value_ms:.0f} ms"
    if value_ms >= 10:
        return f"{value_ms:.1f} ms"
    return f"{value_ms:.2f} ms"


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def render_table(rows: Sequence[Row]) -> str:
    lines = ["| Metric | Result | Goal | Verdict |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.metric} | {row.value} | {row.goal} | {row.verdict} |")
    return "\n".join(lines)
