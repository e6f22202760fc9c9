"""Every frame the ACP agent writes passes here first: the one place where secrets are masked,
whoever built the frame (our updates, the SDK's own error answers, a tool call's raw input).

It is a Transport (the SDK's message-level seam) around the SDK's own stdio NDJSON transport,
so framing stays the SDK's. Left alone is `fs/write_text_file`, whose content the editor writes
into the user's file: masking it would write `[REDACTED]` there (the LSP door leaves
`workspace/applyEdit` alone for the same reason, server/egress.py)."""

from __future__ import annotations

from typing import Any

from acp._transport import NdjsonTransport, Transport
from acp.stdio import stdio_streams
from acp.task import MessageSender, TaskSupervisor

from claw_lsp.foundation.secrets import redact_json

ACTIONABLE_REQUESTS = frozenset({"fs/write_text_file"})
STDIO_LIMIT_BYTES = 50 * 1024 * 1024  # the SDK's own default for agents (embedded files)


class RedactingTransport:
    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(self, message: dict[str, Any]) -> None:
        await self.inner.send(outgoing(message))

    async def receive(self) -> dict[str, Any] | None:
        return await self.inner.receive()

    async def close(self) -> None:
        await self.inner.close()


async def stdio_transport(supervisor: TaskSupervisor) -> RedactingTransport:
    reader, writer = await stdio_streams(limit=STDIO_LIMIT_BYTES)
    return RedactingTransport(NdjsonTransport(reader, MessageSender(writer, supervisor)))


def outgoing(frame: dict[str, Any]) -> dict[str, Any]:
    if frame.get("method") in ACTIONABLE_REQUESTS:
        return frame
    masked: dict[str, Any] = redact_json(frame)
    return masked
