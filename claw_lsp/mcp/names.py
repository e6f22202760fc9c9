"""Names the model sees for MCP tools and prompts: `mcp__<server>__<name>`.

OpenAI-compatible backends accept function names of `[A-Za-z0-9_-]{1,64}`; MCP names may hold
dots, slashes and more, and be longer. Anything else becomes `_`, and a name that is too long
or collides keeps a short hash of the original so it stays unique and the same every run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

PREFIX = "mcp__"
MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def exposed_name(server: str, name: str, taken: set[str] | None = None) -> str:
    """The model-facing name of `name` on `server`; `taken` (updated) keeps names unique."""
    plain = f"{PREFIX}{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', name)}"
    candidate = plain
    if len(plain) > MAX_NAME or (taken is not None and plain in taken):
        suffix = hashlib.sha256(f"{server}\0{name}".encode()).hexdigest()[:8]
        candidate = f"{plain[: MAX_NAME - 9]}_{suffix}"
    if taken is not None:
        taken.add(candidate)
    return candidate


def exposed_names(server: str, names: Iterable[str]) -> dict[str, str]:
    """Original name -> exposed name, assigned in sorted order so collisions resolve alike."""
    taken: set[str] = set()
    return {name: exposed_name(server, name, taken) for name in sorted(set(names))}


def one_line(text: str | None, limit: int = 120) -> str:
    """The first line (or sentence) of a description, for listings."""
    line = (text or "").strip().split("\n", 1)[0].strip()
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
