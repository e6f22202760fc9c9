"""The seams the agent core talks through: the editor it edits in and the person who approves.
Each front door (LSP server, CLI, ACP) implements them; tests implement them in memory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

log = logging.getLogger(__name__)
_Answer = TypeVar("_Answer")


@dataclass(frozen=True)
class BufferSnapshot:
    """An open editor document as the server last saw it."""

    text: str
    version: int | None
    language_id: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class OpenDocument:
    uri: str
    path: Path | None
    language_id: str | None
    version: int | None


@dataclass(frozen=True)
class FileChange:
    """One file's new content. The editor turns it into minimal, versioned edits."""

    path: Path
    uri: str
    before: str | None  # None: the file does not exist yet
    after: str
    version: int | None  # the buffer version the change was computed against (None: unopened)
    label: str
    bom: bool = False
    needs_confirmation: bool = False
    delete: bool = False  # undo of a file the turn created


@dataclass(frozen=True)
class ApplyResult:
    applied: bool | None  # None: unknown (the editor did not answer in time)
    message: str = ""


class Editor(Protocol):
    @property
    def supports_apply_edit(self) -> bool:
        """False: the front door has no editor to apply edits, they go to disk directly."""

    def snapshot(self, path: Path) -> BufferSnapshot | None: ...

    def open_documents(self) -> Sequence[OpenDocument]: ...

    async def apply(self, change: FileChange) -> ApplyResult: ...

    async def apply_many(self, changes: Sequence[FileChange], label: str) -> ApplyResult: ...

    def unsaved_paths(self) -> list[Path]: ...

    async def save_documents(self, paths: Sequence[Path]) -> list[Path]: ...


ApprovalAnswer = Literal["once", "session", "deny"]


@dataclass(frozen=True)
class ApprovalRequest:
    tool: str
    subject: str  # the exact command or path, already escaped for display
    reason: str  # why approval is needed
    allow_session: bool  # whether "Allow for session" may be offered


class Approver(Protocol):
    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer: ...


class DenyingApprover:
    """For non-interactive use: nothing is ever approved."""

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        return "deny"


async def answer_in_time(
    request: Awaitable[_Answer], timeout_s: float, tool: str
) -> _Answer | None:
    """A front door's approval request to its client: the answer, or None (a deny) when none
    comes within `timeout_s` or the request fails. Cancelling the turn still cancels it."""
    try:
        return await asyncio.wait_for(request, timeout_s)
    except TimeoutError:
        log.info("approval for %s timed out: denied", tool)
        return None
    except asyncio.CancelledError:
        raise
    except Exception:
        log.info("approval request failed: denied", exc_info=True)
        return None
