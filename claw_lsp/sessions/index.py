"""The per-folder session index (index.json): entries, locking and atomic replacement."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claw_lsp.sessions.records import fsync_dir, write_all

TEMP_PREFIX = ".claw-tmp-"


def index_entry(header: Mapping[str, Any]) -> dict[str, Any]:
    created = str(header.get("created") or "")
    entry = {"title": str(header.get("title") or ""), "created": created, "updated": created}
    forked = header.get("forkedFrom")
    if isinstance(forked, dict) and isinstance(forked.get("session"), str):
        entry["forkedFrom"] = forked["session"]
    return entry | {"turns": 0}


def add_entry(
    session_id: str, header: Mapping[str, Any], *, turns: int
) -> Callable[[dict[str, Any]], None]:
    """A new session enters the index and becomes the folder's current one."""

    def update(index: dict[str, Any]) -> None:
        index["sessions"][session_id] = index_entry(header) | {"turns": turns}
        index["current"] = session_id

    return update


def set_current_entry(session_id: str) -> Callable[[dict[str, Any]], None]:
    def update(index: dict[str, Any]) -> None:
        index["current"] = session_id

    return update


@contextmanager
def index_lock(folder_dir: Path) -> Iterator[None]:
    fd = os.open(folder_dir / "index.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_index(folder_dir: Path) -> dict[str, Any] | None:
    """The index if it is present and well-formed, else None (the caller rebuilds it)."""
    try:
        index = json.loads((folder_dir / "index.json").read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(index, dict) or not isinstance(index.get("sessions"), dict):
        return None
    if not all(isinstance(entry, dict) for entry in index["sessions"].values()):
        return None
    return index if isinstance(index.get("current"), str | None) else None


def write_atomic(path: Path, data: bytes) -> None:
    """temp + fsync + rename + directory fsync: readers see the old or the new file, never half."""
    temp = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
