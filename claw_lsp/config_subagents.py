"""The subagent settings (issue 18), kept out of config.py, which the options schema will
replace: their names, defaults' bounds and validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

SUBAGENT_KEYS = {
    "subagent_max_turns": "subagentMaxTurns",
    "subagent_depth": "subagentDepth",
    "subagent_parallel": "subagentParallel",
}
# key, Settings attribute, lowest, highest (defaults: 15, 1, 1 in Settings)
SUBAGENT_BOUNDS = (
    ("subagentMaxTurns", "subagent_max_turns", 1, 200),
    ("subagentDepth", "subagent_depth", 0, 3),
    ("subagentParallel", "subagent_parallel", 1, 16),
)


def subagent_values(
    raw: Mapping[str, Any], num: Callable[[str, type, float, float], Any]
) -> dict[str, int]:
    """The Settings values for the subagent keys present in `raw` (num raises ConfigError)."""
    return {
        attr: num(key, int, low, high) for key, attr, low, high in SUBAGENT_BOUNDS if key in raw
    }
