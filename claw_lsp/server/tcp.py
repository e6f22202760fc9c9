"""`claw-lsp --tcp HOST:PORT`, for debugging: loopback only, one client, a per-launch token.

pygls' own start_tcp serves every connection with the same server: a second local process
could drive the agent, and answers would go to whichever client connected last. Here a
connection counts only once its first message is an `initialize` request carrying the launch
token (`initializationOptions.clawToken`); anything else is answered with an error and closed,
and the listener keeps waiting. The first client that shows the token is the only one: the
listening socket is closed at once (later connections are refused), and the server ends when
that client goes away.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import threading
from typing import Any

from claw_lsp.server.transport import MAX_CONTENT_LENGTH, serve

log = logging.getLogger(__name__)

TOKEN_ENV = "CLAW_LSP_TCP_TOKEN"
TOKEN_OPTION = "clawToken"
MIN_TOKEN_CHARS = 16
FIRST_MESSAGE_TIMEOUT_S = 10.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_HEADER = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
REFUSED = "this claw-lsp listener serves one client, which must send the launch token"


class PrefixedReader:
    """The serve() reader over a socket, replaying the (rewritten) first frame before it."""

    def __init__(self, prefix: bytes, stream: asyncio.StreamReader) -> None:
        self._prefix = prefix
        self._stream = stream

    async def readline(self) -> bytes:
        if self._prefix:
            line, newline, rest = self._prefix.partition(b"\n")
            self._prefix = rest
            return line + newline
        try:
            return await self._stream.readline()
        except (ValueError, ConnectionError):  # a line past the stream's limit, a reset
            return b""

    async def read(self, n: int) -> bytes:
        head, self._prefix = self._prefix[:n], self._prefix[n:]
        if len(head) == n:
            return head
        try:
            return head + await self._stream.readexactly(n - len(head))
        except asyncio.IncompleteReadError as exc:
            return head + exc.partial
        except ConnectionError:
            return head


async def _first_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    length = None
    while True:
        line = await reader.readline()
        if not line:
            return None
        match = _HEADER.search(line)
        if match:
            length = int(match.group(1))
        elif not line.strip():
            break
    if length is None or length > MAX_CONTENT_LENGTH:
        return None
    try:
        message = json.loads(await reader.readexactly(length))
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _token_in(message: dict[str, Any]) -> str | None:
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    token = options.get(TOKEN_OPTION) if isinstance(options, dict) else None
    return token if isinstance(token, str) else None


def _without_token(message: dict[str, Any]) -> bytes:
    options = dict(message["params"]["initializationOptions"])
    options.pop(TOKEN_OPTION, None)
    params = {**message["params"], "initializationOptions": options or None}
    body = json.dumps({**message, "params": params}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _refuse(writer: asyncio.StreamWriter, message: dict[str, Any] | None) -> None:
    msg_id = message.get("id") if message else None
    body = json.dumps(
        {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32600, "message": REFUSED}}
    ).encode()
    writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    writer.close()


async def serve_one_client(
    server: Any, host: str, port: int, token: str, on_listening: Any = None
) -> None:
    stop = threading.Event()
    server._stop_event = stop
    claimed = asyncio.Event()
    finished = asyncio.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if claimed.is_set():
            writer.close()
            return
        try:
            message = await asyncio.wait_for(_first_message(reader), FIRST_MESSAGE_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            message = None
        offered = _token_in(message) if message else None
        genuine = offered is not None and hmac.compare_digest(offered.encode(), token.encode())
        if claimed.is_set() or not genuine or (message or {}).get("method") != "initialize":
            log.warning("refused a TCP connection without the launch token")
            _refuse(writer, message)
            return
        assert message is not None
        claimed.set()
        listener.close()  # exactly one client: every later connection is refused
        log.info("TCP client connected")
        server.protocol.set_writer(writer)
        try:
            await serve(server.protocol, PrefixedReader(_without_token(message), reader), stop)
        finally:
            writer.close()
            finished.set()

    listener = await asyncio.start_server(connection, host, port, limit=1 << 20)
    bound = listener.sockets[0].getsockname()
    if on_listening is not None:
        on_listening(bound[0], bound[1])
    await finished.wait()


def start_tcp(server: Any, host: str, port: int, token: str, on_listening: Any = None) -> None:
    try:
        asyncio.run(serve_one_client(server, host, port, token, on_listening))
    except (KeyboardInterrupt, SystemExit):
        pass
