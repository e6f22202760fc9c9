"""The stdio message loop: pygls' reader with a cap on Content-Length, case-insensitive
headers, resynchronisation after a bad frame, and -32700 for malformed JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from typing import Any, BinaryIO, Protocol

from pygls.io_ import StdoutWriter

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 64 * 1024 * 1024
_HEADER = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


class FrameReader(Protocol):
    """What serve() reads frames from: stdin here, a socket in tcp.py."""

    async def readline(self) -> bytes: ...

    async def read(self, n: int) -> bytes: ...


class StdinReader:
    def __init__(self, stdin: BinaryIO) -> None:
        self._stdin = stdin

    async def readline(self) -> bytes:
        return await asyncio.to_thread(self._stdin.readline, MAX_CONTENT_LENGTH)

    async def read(self, n: int) -> bytes:
        chunks: list[bytes] = []
        remaining = n
        while remaining > 0:
            chunk = await asyncio.to_thread(self._stdin.read, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


async def serve(protocol: Any, reader: FrameReader, stop: threading.Event) -> None:
    content_length: int | None = None
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            log.info("client closed stdin")
            return
        match = _HEADER.search(line)
        if match:
            length = int(match.group(1))
            if length > MAX_CONTENT_LENGTH:
                log.error("discarding a frame of %d bytes (limit %d)", length, MAX_CONTENT_LENGTH)
                content_length = None
                continue
            content_length = length
            continue
        if line.strip() or content_length is None:
            continue  # other headers (Content-Type), or noise while resynchronising
        body = await reader.read(content_length)
        content_length = None
        if not body:
            return
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("malformed JSON-RPC message (%d bytes)", len(body))
            _send_error(protocol, None, -32700, "parse error")
            continue
        try:
            message = protocol.structure_message(raw) if isinstance(raw, dict) else raw
        except Exception:
            # Params that do not fit the method's type: answer -32602 with the request's id.
            msg_id = raw.get("id") if isinstance(raw, dict) else None
            if msg_id is not None and isinstance(raw, dict) and "method" in raw:
                _send_error(protocol, msg_id, -32602, f"invalid params for {raw['method']}")
            continue
        try:
            protocol.handle_message(message)
        except Exception:
            log.exception("failed to handle a message")


def _send_error(protocol: Any, msg_id: Any, code: int, message: str) -> None:
    # Written as a plain dict: pygls drops a None id, but JSON-RPC wants "id": null here.
    try:
        protocol._send_data(
            {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        )
    except Exception:
        log.debug("could not send an error response", exc_info=True)


def start_stdio(server: Any) -> None:
    stop = threading.Event()
    server._stop_event = stop
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        asyncio.run(serve(server.protocol, StdinReader(sys.stdin.buffer), stop))
    except BrokenPipeError:
        log.error("connection to the client lost")
    except (KeyboardInterrupt, SystemExit):
        pass
