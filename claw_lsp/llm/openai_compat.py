"""ChatModel over any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LiteLLM proxy).

The SDK's own retries are off: we retry only before the first streamed byte, respect
Retry-After up to a cap, and never replay a half-consumed stream (a tool could run twice).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from claw_lsp.llm.base import BackendError, ChatRequest, ModelReply, RawToolCall, Usage
from claw_lsp.secrets import redact

MAX_RETRIES = 3
MAX_RETRY_AFTER_S = 30.0
MAX_BODY_IN_ERROR = 500
CONTEXT_ERROR_MARKERS = (
    "maximum context length",
    "context length",
    "context_length_exceeded",
    "too many tokens",
    "exceeds the context",
    "prompt is too long",
    "n_ctx",
    "context window",
)


class OpenAICompatModel:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        max_retries: int = MAX_RETRIES,
        extra_body: Mapping[str, Any] | None = None,
        stream: bool = True,
    ) -> None:
        import openai  # imported lazily: it is the slowest import and not needed to initialize

        self.model_name = model
        self.base_url = base_url
        self._max_retries = max_retries
        self._extra_body = dict(extra_body or {})
        # Some servers (llama-cpp-python with tool_choice auto) cannot stream tool calls.
        self._stream = stream
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "none",
            max_retries=0,
            timeout=openai.Timeout(read_timeout, connect=connect_timeout, write=30.0, pool=5.0),
        )
        self._openai = openai

    async def close(self) -> None:
        await self._client.close()

    async def complete(
        self,
        request: ChatRequest,
        *,
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None] = lambda _: None,
    ) -> ModelReply:
        if not self._stream:
            completion = await self._create(request, on_notice, stream=False)
            return _from_completion(completion, on_text)
        stream = await self._create(request, on_notice, stream=True)
        try:
            return await _consume(stream, on_text)
        finally:
            await stream.close()

    async def _create(
        self, request: ChatRequest, on_notice: Callable[[str], None], *, stream: bool
    ) -> Any:
        kwargs: dict[str, Any] = {"model": self.model_name, "messages": list(request.messages)}
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        if request.tools:
            kwargs["tools"] = list(request.tools)
        if self._extra_body:
            kwargs["extra_body"] = self._extra_body
        attempt = 0
        while True:
            try:
                return await self._client.chat.completions.create(**kwargs)
            except self._openai.APIStatusError as exc:
                error = map_status_error(exc.status_code, _body_text(exc), self.base_url)
                delay = _retry_delay(exc, attempt)
                if not _retryable(exc.status_code) or attempt >= self._max_retries or delay is None:
                    if exc.status_code == 429 and delay is None:
                        error = BackendError(
                            "the backend is rate limiting and asks to wait longer than "
                            f"{MAX_RETRY_AFTER_S:.0f} s; try again later",
                            "rate_limited",
                        )
                    raise error from None
            except self._openai.APITimeoutError:
                if attempt >= self._max_retries:
                    raise BackendError(
                        f"the backend at {self.base_url} did not answer in time", "timeout"
                    ) from None
                delay = _backoff(attempt)
            except self._openai.APIConnectionError:
                if attempt >= self._max_retries:
                    raise BackendError(
                        f"cannot reach the model backend at {self.base_url}: is the server "
                        "running? (check baseUrl / OPENAI_BASE_URL)",
                        "unreachable",
                    ) from None
                delay = _backoff(attempt)
            attempt += 1
            on_notice(
                f"backend busy or unreachable, retrying in {delay:.1f} s "
                f"(attempt {attempt + 1} of {self._max_retries + 1})"
            )
            await asyncio.sleep(delay)


async def _consume(stream: Any, on_text: Callable[[str], None]) -> ModelReply:
    reply = ModelReply()
    text_parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    try:
        async for chunk in stream:
            usage = getattr(chunk, "usage", None)
            if usage:
                reply.usage = _usage(usage)
            for choice in getattr(chunk, "choices", None) or []:
                delta = choice.delta
                if delta is not None:
                    if delta.content:
                        text_parts.append(delta.content)
                        on_text(delta.content)
                    for tc in delta.tool_calls or []:
                        _merge_tool_delta(calls, tc)
                if choice.finish_reason:
                    reply.finish_reason = choice.finish_reason
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        partial = "".join(text_parts)
        raise BackendError(_stream_error_message(exc), "dropped", partial_text=partial) from None
    reply.text = "".join(text_parts)
    reply.tool_calls = [
        RawToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
        for i, c in sorted(calls.items())
        if c["name"]
    ]
    if reply.finish_reason is None and not reply.text and not reply.tool_calls:
        raise BackendError("the backend closed the stream without an answer", "dropped")
    return reply


def _from_completion(completion: Any, on_text: Callable[[str], None]) -> ModelReply:
    choices = getattr(completion, "choices", None)
    if not choices:
        raise BackendError(
            "the backend returned an invalid response (no choices)", "invalid_response"
        )
    message = choices[0].message
    reply = ModelReply(text=message.content or "", finish_reason=choices[0].finish_reason)
    if reply.text:
        on_text(reply.text)
    for n, call in enumerate(message.tool_calls or []):
        function = getattr(call, "function", None)
        if function is not None and function.name:
            reply.tool_calls.append(
                RawToolCall(
                    id=call.id or f"call_{n}",
                    name=function.name,
                    arguments=function.arguments or "",
                )
            )
    if getattr(completion, "usage", None):
        reply.usage = _usage(completion.usage)
    return reply


def _merge_tool_delta(calls: dict[int, dict[str, Any]], tc: Any) -> None:
    index = tc.index if isinstance(getattr(tc, "index", None), int) else len(calls)
    entry = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
    if tc.id and not entry["id"]:
        entry["id"] = tc.id
    function = getattr(tc, "function", None)
    if function is None:
        return
    if function.name and function.name != entry["name"]:
        entry["name"] = entry["name"] + function.name if entry["name"] else function.name
    args = function.arguments
    if isinstance(args, dict):  # some Ollama builds stream an object, not a string
        entry["arguments"] = json.dumps(args)
    elif args:
        entry["arguments"] += args


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details else None
    return Usage(
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(cached) if cached is not None else None,
    )


def _retryable(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * (2**attempt)) * (0.8 + 0.4 * random.random())


def _retry_delay(exc: Any, attempt: int) -> float | None:
    """None means the server asked for a wait longer than we are willing to block a turn."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            return _backoff(attempt)
        return None if seconds > MAX_RETRY_AFTER_S else max(0.0, seconds)
    return _backoff(attempt)


def _body_text(exc: Any) -> str:
    try:
        text = exc.response.text
    except Exception:
        text = str(getattr(exc, "message", "") or "")
    return redact(text)[:MAX_BODY_IN_ERROR]


def map_status_error(status: int, body: str, base_url: str) -> BackendError:
    lowered = body.lower()
    if status in (401, 403):
        return BackendError(
            f"the backend refused the request ({status}): check the API key "
            "(OPENAI_API_KEY / CLAW_API_KEY)",
            "auth",
        )
    if status == 404:
        return BackendError(
            f"the backend answered 404 at {base_url}: check baseUrl (it usually "
            "ends in /v1) and the model name",
            "not_found",
        )
    if status == 429:
        return BackendError("the backend is rate limiting requests (429)", "rate_limited")
    if status in (400, 413, 422) and any(m in lowered for m in CONTEXT_ERROR_MARKERS):
        return BackendError(
            "the conversation is longer than the model's context window", "context_length"
        )
    if status >= 500:
        return BackendError(f"the backend failed ({status}): {body}", "server")
    return BackendError(f"the backend rejected the request ({status}): {body}", "bad_request")


def _stream_error_message(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "the backend stalled: no data within the read timeout"
    if isinstance(exc, json.JSONDecodeError) or "JSON" in name:
        return "the backend returned an invalid response (malformed stream data)"
    return f"the backend stream ended unexpectedly ({name}); the partial answer was kept"
