"""Durability per agent step, not per message (issue 22).

The agent loop appends its records without fsync (they are in the file at once: a killed
process loses none of them) and syncs the session file once per step, before the step's tool
results go to the model; the turn record at the end is written durably. So a machine crash or
power cut loses at most the step in flight. The fsync runs in a worker thread: the LSP event
loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class UnsyncedFiles:
    """Session files with records written but not yet fsynced."""

    def __init__(self) -> None:
        self._paths: set[Path] = set()

    def written(self, path: Path, durable: bool) -> None:
        # A durable write's fsync also covers every earlier write of the file.
        if durable:
            self._paths.discard(path)
        else:
            self._paths.add(path)

    async def sync(self, path: Path) -> OSError | None:
        """fsync `path` if it has unsynced records; the error, if the disk refused."""
        if path not in self._paths:
            return None
        try:
            await asyncio.to_thread(fsync_file, path)
        except OSError as error:
            return error
        self._paths.discard(path)
        return None


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
