"""Reading untrusted JSON-shaped values (model replies, client params, session records)
without guessing: a field of the wrong type reads as empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def mapping_at(container: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """`container[key]` when it is a mapping, else an empty one."""
    value = container.get(key)
    return value if isinstance(value, Mapping) else _EMPTY


def str_at(container: Mapping[str, Any], key: str, default: str = "") -> str:
    value = container.get(key)
    return value if isinstance(value, str) else default
