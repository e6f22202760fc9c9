"""Reads through the client: before an allowed call reads or edits a file, its text is asked
for with `fs/read_text_file` (when the client offers it), so the agent sees the editor's buffer,
unsaved changes included, as the LSP door's reads see open documents.

The core reads synchronously through Editor.snapshot; the awaited moment is the orchestrator's
CallObserver.before, which runs after the call is allowed (tiers, rules, protected paths) and
before it runs. The service is claw's own AgentService with that observer added to each turn
(the language tools' observer, when there is one, still runs after it)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from claw_lsp.acp.ports import Peer, current, real_path
from claw_lsp.agent.service import AgentService
from claw_lsp.agent.turn import TurnDeps
from claw_lsp.permissions.paths import ResolvedPath
from claw_lsp.tools.base import CallObserver

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 10.0
MAX_FILES_PER_CALL = 20  # apply_patch may name several; a glob's directory is never read
_KINDS_THAT_READ = frozenset({"read", "write"})


class ClientReads:
    def __init__(self, peer: Peer, inner: CallObserver | None) -> None:
        self.peer = peer
        self.inner = inner

    async def before(self, kind: str, paths: Sequence[ResolvedPath]) -> None:
        session = current.get()
        client = self.peer.client
        reads = kind in _KINDS_THAT_READ and self.peer.reads_through_client
        if reads and session is not None and client is not None:
            for target in [p for p in paths if _is_file(p)][:MAX_FILES_PER_CALL]:
                text = await self._read(client, session.id, target)
                if text is not None:
                    session.buffers[real_path(target.path)] = text
        if self.inner is not None:
            await self.inner.before(kind, paths)

    async def after(self, kind: str, paths: Sequence[ResolvedPath]) -> str:
        return await self.inner.after(kind, paths) if self.inner is not None else ""

    async def _read(self, client: Any, session_id: str, target: ResolvedPath) -> str | None:
        try:
            answer = await asyncio.wait_for(
                client.read_text_file(session_id=session_id, path=str(target.path)),
                READ_TIMEOUT_S,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            # No answer, or the client cannot read it: the core reads the disk as usual.
            log.info("fs/read_text_file failed for %s; reading the disk", target.relative)
            return None
        content = getattr(answer, "content", None)
        return content if isinstance(content, str) else None


class AcpAgentService(AgentService):
    """AgentService whose turns read through the client (see the module docstring)."""

    def __init__(self, *, peer: Peer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.peer = peer

    def turn_deps(self) -> TurnDeps:
        deps = super().turn_deps()
        inner = deps.observer
        return replace(deps, observer=lambda: ClientReads(self.peer, inner()))


def _is_file(target: ResolvedPath) -> bool:
    return os.path.isfile(target.path)
