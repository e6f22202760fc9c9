"""One MCP server connection, owned by one asyncio task, through the official SDK's `Client`.

The SDK's transports are anyio task groups that must be entered and left by the same task,
so an owner task enters the client, lists what the server offers (every page), and then
waits until it is told to stop; requests are made from the turn's own task. Cancelling that
task makes the SDK send `notifications/cancelled` for the request in flight. Every request has
the `mcpTimeout` deadline (the SDK's read timeout). A server that exits (its stderr closes, or
a request finds the connection closed) is marked failed: its tools disappear from the next
turn on and the manager restarts it with backoff.

The SDK is imported here, on first use: it is heavy, and never on the start-up path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from claw_lsp import __version__
from claw_lsp.foundation.secrets import redact
from claw_lsp.mcp.launch import Launch

log = logging.getLogger(__name__)
stderr_log = logging.getLogger("claw_lsp.mcp.stderr")
T = TypeVar("T")
STOP_GRACE_S = 10.0
# Starting may take longer than a request (npx downloads a package, Python imports the SDK):
# the start's deadline is at least this, whatever mcpTimeout says.
START_TIMEOUT_S = 60.0
MAX_PAGES = 100
_LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/resources/list_changed": "resources",
    "notifications/prompts/list_changed": "prompts",
}
_EVENT_KINDS = {
    "ToolsListChanged": "tools",
    "ResourcesListChanged": "resources",
    "PromptsListChanged": "prompts",
}


class McpCallError(Exception):
    """A request that failed; the message is for the model and the user."""


@dataclass(frozen=True)
class Listing:
    """What a server offers, in the wire form (camelCase dicts), in the server's order."""

    tools: tuple[dict[str, Any], ...] = ()
    resources: tuple[dict[str, Any], ...] = ()
    prompts: tuple[dict[str, Any], ...] = ()


class McpConnection:
    def __init__(self, launch: Launch, *, timeout: float) -> None:
        self.launch = launch
        self.name = launch.spec.name
        self.timeout = timeout
        self.status = "starting"  # starting | ready | failed | stopped
        self.last_error: str | None = None
        self.listing = Listing()
        self.protocol_version: str | None = None
        self.start_seconds: float | None = None
        self.stale: set[str] = set()  # listings to fetch again between turns
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.on_failure: Callable[[McpConnection], None] = lambda connection: None
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and list; afterwards `status` is ready or failed (never raises but
        CancelledError)."""
        started = time.monotonic()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._own(ready), name=f"mcp:{self.name}")
        deadline = max(self.timeout, START_TIMEOUT_S)
        try:
            await asyncio.wait_for(asyncio.shield(ready), deadline)
        except TimeoutError:
            self._fail(f"did not start within {deadline:g} s")
        except asyncio.CancelledError:
            await self.stop()
            raise
        except BaseException as exc:
            self._fail(describe_error(exc))
        else:
            self.status = "ready"
            self.start_seconds = time.monotonic() - started
        if self.status != "ready":
            await self.stop()

    async def stop(self) -> None:
        if self.status != "failed":
            self.status = "stopped"
        self._stop.set()
        task, self._task = self._task, None
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_S)
        except TimeoutError:
            task.cancel()
        except BaseException:  # the owner's own failure is already recorded
            log.debug("mcp %s: owner ended with an error", self.name, exc_info=True)

    async def _own(self, ready: asyncio.Future[None]) -> None:
        from mcp import Client
        from mcp_types import Implementation

        read_fd: int | None = None
        errlog: TextIO | None = None
        try:
            async with AsyncExitStack() as stack:
                if self.launch.spec.transport == "stdio":
                    read_fd, write_fd = os.pipe()
                    errlog = os.fdopen(write_fd, "w")
                transport = await self._transport(stack, errlog)
                client = Client(
                    transport,
                    mode="auto",  # server/discover, else the initialize handshake
                    message_handler=self._on_message,
                    # A backstop: each request has its own mcpTimeout deadline (request()).
                    read_timeout_seconds=max(self.timeout, START_TIMEOUT_S),
                    client_info=Implementation(name="claw-lsp", version=__version__),
                    cache=None,
                )
                await stack.enter_async_context(client)
                if errlog is not None and read_fd is not None:
                    # The child has its copy of the pipe: from now on EOF means it exited.
                    errlog.close()
                    errlog = None
                    stack.push_async_callback(_cancel, asyncio.create_task(self._stderr(read_fd)))
                    read_fd = None
                self.protocol_version = client.protocol_version
                self.listing = await self._list(client, ("tools", "resources", "prompts"))
                self._client = client
                listener = asyncio.create_task(self._listen(client))
                stack.push_async_callback(_cancel, listener)
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            elif self.status == "ready":
                self._fail(describe_error(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._client = None
            if errlog is not None:
                errlog.close()
            if read_fd is not None:
                os.close(read_fd)

    async def _transport(self, stack: AsyncExitStack, errlog: TextIO | None) -> Any:
        launch = self.launch
        if launch.spec.transport == "http":
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = httpx2.AsyncClient(
                headers=dict(launch.headers), timeout=httpx2.Timeout(30.0, read=300.0)
            )
            await stack.enter_async_context(http)
            return streamable_http_client(launch.url, http_client=http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert errlog is not None
        params = StdioServerParameters(
            command=launch.command,
            args=list(launch.args),
            env=dict(launch.env),
            cwd=launch.cwd,
        )
        # Its own session (process group), killed as a whole on stop: the SDK's stdio_client.
        return stdio_client(params, errlog=errlog)

    async def _list(self, client: Any, kinds: Iterable[str]) -> Listing:
        caps = client.server_capabilities
        current = {
            "tools": self.listing.tools,
            "resources": self.listing.resources,
            "prompts": self.listing.prompts,
        }
        for kind in kinds:
            if getattr(caps, kind, None) is None:
                current[kind] = ()
                continue
            method = getattr(client, f"list_{kind}")
            items: dict[str, dict[str, Any]] = {}
            cursor = None
            for _ in range(MAX_PAGES):
                page = await method(cursor=cursor)
                for item in getattr(page, kind):
                    wire = item.model_dump(mode="json", by_alias=True, exclude_none=True)
                    items.setdefault(str(wire.get("uri") or wire.get("name")), wire)
                cursor = page.next_cursor
                if not cursor:
                    break
            current[kind] = tuple(items.values())
        return Listing(current["tools"], current["resources"], current["prompts"])

    async def refresh(self) -> bool:
        """Fetch the listings a list_changed notification marked stale; True when any did."""
        if not self.stale or self.status != "ready":
            return False
        kinds, self.stale = sorted(self.stale), set()
        self.listing = await self.request(lambda client: self._list(client, kinds))
        return True

    # -- requests ----------------------------------------------------------------------------
    async def request(self, call: Callable[[Any], Awaitable[T]]) -> T:
        """One request on the live client, with every failure as McpCallError."""
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        client = self._client
        if self.status != "ready" or client is None:
            why = f" ({self.last_error})" if self.last_error else ""
            raise McpCallError(
                f"the MCP server {self.name} is not running{why}; it is restarted on the next turn"
            )
        try:
            # Cancelling the request (the deadline, or the turn) makes the SDK send
            # notifications/cancelled for it.
            return await asyncio.wait_for(call(client), self.timeout)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            raise McpCallError(self._timeout_message()) from None
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                raise McpCallError(self._timeout_message()) from None
            if exc.code == CONNECTION_CLOSED:
                self._fail("the server closed the connection")
                raise McpCallError(self._gone_message()) from None
            raise McpCallError(f"the MCP server {self.name} refused: {exc.error.message}") from None
        except Exception as exc:
            if _is_transport_failure(exc):
                self._fail(describe_error(exc))
                raise McpCallError(self._gone_message()) from None
            log.warning("mcp %s: request failed", self.name, exc_info=True)
            raise McpCallError(
                f"the MCP server {self.name} sent a reply claw could not use ({type(exc).__name__})"
            ) from None

    def _timeout_message(self) -> str:
        return (
            f"the MCP server {self.name} did not answer within {self.timeout:g} s "
            "(mcpTimeout); the request was cancelled"
        )

    def _gone_message(self) -> str:
        return (
            f"the MCP server {self.name} stopped during the call ({self.last_error}); nothing "
            "more is known about the call's effect; it is restarted on the next turn"
        )

    # -- what the server tells us ------------------------------------------------------------
    async def _on_message(self, message: Any) -> None:
        kind = _LIST_CHANGED.get(str(getattr(message, "method", "")))
        if kind:
            self.stale.add(kind)  # applied between turns, never within one
        elif isinstance(message, Exception):
            log.debug("mcp %s: %s", self.name, describe_error(message))

    async def _listen(self, client: Any) -> None:
        """2026-07-28 servers send list changes only on a subscriptions/listen stream."""
        from mcp_types.version import MODERN_PROTOCOL_VERSIONS

        if client.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return
        try:
            async with client.listen(
                tools_list_changed=True, prompts_list_changed=True, resources_list_changed=True
            ) as subscription:
                async for event in subscription:
                    kind = _EVENT_KINDS.get(type(event).__name__)
                    if kind:
                        self.stale.add(kind)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("mcp %s: no list-changed subscription: %s", self.name, describe_error(exc))

    async def _stderr(self, fd: int | None) -> None:
        assert fd is not None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        try:
            async for line in _lines(reader):
                text = redact(line)
                self.stderr_tail.append(text)
                stderr_log.info("mcp %s: %s", self.name, text)
        finally:
            transport.close()
        if self.status == "ready":  # EOF: the process exited (or closed stderr for good)
            self._fail("the server process exited" + self._stderr_hint())

    def _stderr_hint(self) -> str:
        lines = [" ".join(line.split()) for line in self.stderr_tail if line.strip()]
        return f" (its last words: {lines[-1][:200]})" if lines else ""

    def _fail(self, reason: str) -> None:
        if self.status in ("failed", "stopped"):
            return
        self.status = "failed"
        self.last_error = redact(reason)
        self._stop.set()
        self.on_failure(self)


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[str]:
    buffer = b""
    while chunk := await reader.read(65536):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace").rstrip()[:2000]
        buffer = buffer[-65536:]
    if buffer:
        yield buffer.decode("utf-8", "replace").rstrip()[:2000]


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _is_transport_failure(exc: BaseException) -> bool:
    import anyio
    import httpx2

    return isinstance(
        exc, OSError | httpx2.TransportError | anyio.BrokenResourceError | anyio.ClosedResourceError
    )


def describe_error(exc: BaseException) -> str:
    """One line a user can act on, from whatever the SDK or the OS raised (never a traceback)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    try:
        import httpx2

        if isinstance(exc, httpx2.ConnectError):
            message = f"cannot connect ({message})"
        elif isinstance(exc, httpx2.HTTPStatusError):
            message = f"HTTP {exc.response.status_code}"
    except ImportError:
        pass
    return redact(str(message).splitlines()[0][:300] if str(message) else type(exc).__name__)
