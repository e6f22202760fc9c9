"""Reading one chat-completion response, streamed (SSE) or not, into a ModelReply.

We read the raw bytes ourselves rather than through the SDK's stream parser, because local
servers send things it chokes on (SECURITY.md BF-06, BF-11, BF-12, BF-16): non-JSON `data:`
lines, no `[DONE]`, data after `[DONE]`, `choices: []` usage chunks, keep-alive comments, tool
calls without index or id, arguments as an object, an HTML page with status 200, or a stream
that never ends. Bad events are skipped; sizes are capped; nothing here raises anything but
BackendError (or CancelledError).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.json_values import mapping_at
from claw_lsp.foundation.messages import ToolCall, Usage
from claw_lsp.llm.arguments import MAX_ARGUMENTS_CHARS
from claw_lsp.llm.backend_errors import error_from_payload, invalid_response
from claw_lsp.llm.base import BackendError, ModelReply

# BF-16: a hostile or runaway backend must not fill memory or the editor.
MAX_REPLY_CHARS = 1_000_000
MAX_BODY_BYTES = 16_000_000
MAX_LINE_BYTES = 4_000_000
# Lines read between two yields to the event loop (each costs tens of microseconds).
LINES_PER_YIELD = 64
# Issue 22: after [DONE] the rest of the body (normally the chunked terminator, a few bytes) is
# read so that the keep-alive connection goes back to the pool; a server that keeps sending, or
# holds the body open, loses the connection instead of stalling the turn.
DRAIN_MAX_BYTES = 65_536
DRAIN_TIMEOUT_S = 0.5
REPLY_CAPPED_NOTICE = f"the reply exceeded {MAX_REPLY_CHARS:,} characters; the rest was not read"


def escape_control_characters(text: str) -> str:
    """Control, bidi and zero-width characters in assistant text are shown, never interpreted
    (terminal escapes, reordered text); its lines and tabs stay."""
    return escape_for_display(text, multiline=True)


@dataclass
class _PendingCall:
    id: str | None = None
    name: str = ""
    arguments: str | dict[str, Any] = ""


@dataclass
class ReplyAssembler:
    """Chunks (as decoded JSON) in, one ModelReply out; tolerant of what local servers send."""

    on_text: Callable[[str], None]
    on_notice: Callable[[str], None]
    text_parts: list[str] = field(default_factory=list)
    text_chars: int = 0
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False  # [DONE] seen, or the reply cap reached: stop reading
    skipped_events: int = 0
    saw_chunk: bool = False

    @property
    def partial_text(self) -> str:
        return "".join(self.text_parts)

    def feed_event(self, data: str) -> None:
        if self.done:
            return  # data after [DONE] is ignored
        if data.strip() == "[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            self.skipped_events += 1
            return
        if not isinstance(chunk, dict):
            self.skipped_events += 1
            return
        if "error" in chunk and not chunk.get("choices"):
            raise error_from_payload(chunk, partial_text=self.partial_text)
        self.feed_chunk(chunk)

    def feed_chunk(self, chunk: dict[str, Any]) -> None:
        self.saw_chunk = True
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage_from_wire(usage)
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue  # only the first choice is ours (n=1)
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                self._text(delta.get("content"))
                for tool_call in delta.get("tool_calls") or []:
                    if isinstance(tool_call, dict):
                        self._merge_call(tool_call)
            if isinstance(choice.get("finish_reason"), str) and choice["finish_reason"]:
                self.finish_reason = choice["finish_reason"]

    def _text(self, content: Any) -> None:
        if not isinstance(content, str) or not content:
            return
        room = MAX_REPLY_CHARS - self.text_chars
        if len(content) > room:
            content = content[:room]
            self.done = True
            self.finish_reason = "length"
            self.on_notice(REPLY_CAPPED_NOTICE)
        content = escape_control_characters(content)
        self.text_chars += len(content)
        if content:
            self.text_parts.append(content)
            self.on_text(content)

    def _merge_call(self, tool_call: dict[str, Any]) -> None:
        function = mapping_at(tool_call, "function")
        call_id = tool_call.get("id") if isinstance(tool_call.get("id"), str) else None
        name = function.get("name") if isinstance(function.get("name"), str) else ""
        index = tool_call.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            # No index (some Hermes parsers): a delta naming a new id or tool starts a call,
            # anything else continues the last one.
            last = max(self.calls) if self.calls else None
            starts_new = last is None or (
                (call_id and call_id != self.calls[last].id)
                or (name and self.calls[last].name and not call_id)
            )
            index = (last + 1 if last is not None else 0) if starts_new else last
        entry = self.calls.setdefault(index or 0, _PendingCall())
        if call_id and not entry.id:
            entry.id = call_id
        if name and name != entry.name:
            # Most servers send the name once; a few split it across deltas.
            entry.name = entry.name + name if entry.name and not call_id else name
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # Ollama sends an object, not a JSON string
            entry.arguments = arguments
        elif (
            isinstance(arguments, str)
            and isinstance(entry.arguments, str)
            and len(entry.arguments) <= MAX_ARGUMENTS_CHARS  # past it, parsing rejects it
        ):
            entry.arguments += arguments

    def reply(self) -> ModelReply:
        calls = [
            ToolCall(id=entry.id or "", name=entry.name, arguments=entry.arguments)
            for _, entry in sorted(self.calls.items())
            if entry.name
        ]
        return ModelReply(
            text=self.partial_text,
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
        )


def usage_from_wire(usage: dict[str, Any]) -> Usage:
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None

    def count(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return Usage(
        prompt_tokens=count(usage.get("prompt_tokens")),
        completion_tokens=count(usage.get("completion_tokens")),
        cached_tokens=count(cached) if cached is not None else None,
    )


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream into lines; an over-long line is dropped, not buffered."""
    buffer = b""
    overflowing = False
    async for chunk in chunks:
        buffer += chunk
        *complete, buffer = re.split(rb"\r\n|\r|\n", buffer)
        for line in complete:
            if overflowing:
                overflowing = False  # the tail of a dropped line
                continue
            if len(line) <= MAX_LINE_BYTES:
                yield line
        if len(buffer) > MAX_LINE_BYTES:
            buffer, overflowing = b"", True
    if buffer and not overflowing:
        yield buffer


def _feed_sse_lines(assembler: ReplyAssembler, lines: Iterable[bytes], data: list[str]) -> None:
    for raw in lines:
        line = raw.decode("utf-8", errors="replace")
        if not line:  # a blank line ends the event
            if data:
                assembler.feed_event("\n".join(data))
                data.clear()
            continue
        if line.startswith(":"):
            continue  # keep-alive comment
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value.removeprefix(" "))


async def read_stream(
    response: Any, on_text: Callable[[str], None], on_notice: Callable[[str], None]
) -> ModelReply:
    """Read a streamed response (an SDK AsyncAPIResponse). Errors while reading end the reply
    as a BackendError carrying the partial text; it is never replayed."""
    assembler = ReplyAssembler(on_text, on_notice)
    data: list[str] = []
    lines_read = 0
    chunks = response.iter_bytes()
    try:
        async for line in _lines(chunks):
            _feed_sse_lines(assembler, [line], data)
            if assembler.done:
                await drain(chunks)
                break
            lines_read += 1
            if lines_read % LINES_PER_YIELD == 0:
                # A fully buffered reply is thousands of lines with no await in between:
                # let editor requests in (issue 9, responsiveness during bursts).
                await asyncio.sleep(0)
        if data and not assembler.done:  # no blank line after the last event (EOF)
            assembler.feed_event("\n".join(data))
    except (asyncio.CancelledError, BackendError):
        raise
    except Exception as exc:
        raise BackendError(
            stream_error_message(exc), "dropped", partial_text=assembler.partial_text
        ) from None
    if not assembler.saw_chunk:
        raise BackendError("the backend closed the stream without an answer", "dropped")
    if not assembler.done and assembler.finish_reason is None:
        # EOF without [DONE] is fine after a finish_reason (BF-06); before one, the answer
        # (and any tool call in it) is cut off: keep the text, run nothing (BF-05).
        raise BackendError(
            "the backend stream ended before the answer was complete; the partial answer "
            "was kept and no tool was run",
            "dropped",
            partial_text=assembler.partial_text,
        )
    if assembler.skipped_events:
        on_notice(f"skipped {assembler.skipped_events} malformed event(s) in the backend stream")
    return assembler.reply()


async def drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what is left of a body, bounded in bytes and time; whatever goes wrong only means
    the connection is not reused (the reply is complete already)."""
    read = 0
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for chunk in chunks:
                read += len(chunk)
                if read > DRAIN_MAX_BYTES:
                    return
    except asyncio.CancelledError:
        raise  # the turn was cancelled (asyncio.timeout turns its own expiry into TimeoutError)
    except Exception:  # timed out, or the stream broke after [DONE]: the answer is complete
        return


async def read_body(response: Any) -> bytes:
    body = bytearray()
    async for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise invalid_response(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    return bytes(body)


async def read_completion(
    response: Any, on_text: Callable[[str], None], on_notice: Callable[[str], None]
) -> ModelReply:
    """A non-streamed answer, or a 200 whose body is not a completion (BF-12)."""
    try:
        body = await read_body(response)
    except (asyncio.CancelledError, BackendError):
        raise
    except Exception as exc:
        raise BackendError(stream_error_message(exc), "dropped") from None
    return reply_from_body(body, on_text, on_notice)


def reply_from_body(
    body: bytes, on_text: Callable[[str], None], on_notice: Callable[[str], None]
) -> ModelReply:
    text = body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        if text.lstrip().startswith("data:"):  # an SSE stream without its content type
            assembler = ReplyAssembler(on_text, on_notice)
            data: list[str] = []
            _feed_sse_lines(assembler, [*text.encode().splitlines(), b""], data)
            if assembler.saw_chunk:
                return assembler.reply()
        raise invalid_response(text) from None
    if not isinstance(payload, dict):
        raise invalid_response(text)
    if "error" in payload and not payload.get("choices"):
        raise error_from_payload(payload)
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise invalid_response(text)
    assembler = ReplyAssembler(on_text, on_notice)
    assembler.feed_chunk(payload)
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise invalid_response(text)
    return assembler.reply()


def stream_error_message(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "the backend stalled: no data within the read timeout (requestTimeout)"
    return f"the backend stream ended unexpectedly ({name}); the partial answer was kept"
