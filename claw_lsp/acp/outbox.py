"""Session updates in order. The core emits events synchronously (EventSink.emit) while a turn
runs; ACP notifications are awaited writes. One sender task drains a queue, so updates reach
the client in the order they happened, and a prompt's answer waits until its updates are out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from acp.interfaces import Client

log = logging.getLogger(__name__)
Update = Any  # one of the SDK's SessionUpdate models
UpdateSource = Update | Callable[[], Update | None]


class Outbox:
    def __init__(self) -> None:
        self.client: Client | None = None
        self._queue: asyncio.Queue[tuple[str, UpdateSource]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def send(self, session_id: str, update: UpdateSource) -> None:
        """Queue an update; a callable is evaluated when its turn to be sent comes (after the
        code that queued it has finished its synchronous step)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        self._queue.put_nowait((session_id, update))

    async def flush(self) -> None:
        """Returns when everything queued so far has been written."""
        if self._task is not None and not self._task.done():
            await self._queue.join()

    async def _drain(self) -> None:
        while True:
            session_id, source = await self._queue.get()
            try:
                update = source() if callable(source) else source
                if update is not None and self.client is not None:
                    await self.client.session_update(session_id=session_id, update=update)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The client went away or rejected one update: the turn goes on regardless.
                log.info("a session update could not be sent", exc_info=True)
            finally:
                self._queue.task_done()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
