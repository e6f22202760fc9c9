"""ChatModel over any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LiteLLM proxy).

We retry only before the first byte of an answer, respect Retry-After up to a cap, and never
replay a half-consumed stream (a tool could run twice). The body is read by stream_reply, which
tolerates what local servers really send.

Requests go out through httpx directly, on the same origin-guarded, pooled client the openai SDK
would use (issue 22): the SDK's per-request machinery (options models, header building, its
response wrappers) cost more per step than everything else the client does except the fsync,
and its import was most of the time to the first request. The body is sent as it is built
(the history is plain JSON already, wire_message), statuses are mapped by backend_errors, and
the SDK stays for what it does well elsewhere (the probe, doctor's error types).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from claw_lsp.foundation.secrets import display_url, redact_message, register_url_credentials
from claw_lsp.llm.backend_errors import map_status_error
from claw_lsp.llm.base import BackendError, ChatRequest, ModelReply
from claw_lsp.llm.origin import CrossOriginRedirect, find_redirect_refusal, guarded_http_client
from claw_lsp.llm.stream_reply import read_completion, read_stream

_ERROR_BODY_BYTES = 65_536  # an error page is read this far for its message
MAX_RETRIES = 3
# A refused connection is usually a server that is not running: fail fast (BF-03).
MAX_CONNECT_RETRIES = 1
MAX_RETRY_AFTER_S = 30.0
EMPTY_STREAM_NOTICE = (
    "the streamed reply was empty although tools were offered (known Ollama behaviour); "
    "asking once more without streaming"
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
        retry_empty_stream: bool = True,
    ) -> None:
        import httpx2  # imported lazily: not needed to initialize

        self.model_name = model
        self.base_url = base_url
        register_url_credentials(base_url)
        self._shown_url = display_url(base_url)
        self._max_retries = max_retries
        self._extra_body = dict(extra_body or {})
        # Some servers (llama-cpp-python with tool_choice auto) cannot stream tool calls.
        self._stream = stream
        self._retry_empty_stream = retry_empty_stream
        # The key (and the conversation) never follow a redirect to another origin.
        self._http = guarded_http_client(
            base_url,
            timeout=httpx2.Timeout(read_timeout, connect=connect_timeout, write=30.0, pool=5.0),
        )
        self._httpx = httpx2
        # .../v1 -> .../v1/chat/completions, a query (an api-version, a key) kept after it.
        url = httpx2.URL(base_url)
        self._url = url.copy_with(path=url.path.rstrip("/") + "/chat/completions")
        self._headers = {
            "Authorization": f"Bearer {api_key or 'none'}",
            "Content-Type": "application/json",
            "User-Agent": "claw-lsp",
        }

    async def close(self) -> None:
        await self._http.aclose()

    async def complete(
        self,
        request: ChatRequest,
        *,
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None] = lambda _: None,
    ) -> ModelReply:
        reply = await self._request(request, on_text, on_notice, stream=self._stream)
        if self._stream and self._retry_empty_stream and request.tools and _is_empty(reply):
            # BF-11: Ollama may stream nothing at all for a tool turn; a plain request works.
            on_notice(EMPTY_STREAM_NOTICE)
            reply = await self._request(request, on_text, on_notice, stream=False)
        return reply

    def _body(self, request: ChatRequest, stream: bool) -> bytes:
        """The request body, serialised once (the one pass over the history per step).
        Whatever assembled the messages, the model is sent no secret (issue 13, rule 5)."""
        body: dict[str, Any] = {
            "messages": [redact_message(m) for m in request.messages],
            "model": self.model_name,
        }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = list(request.tools)
        # The configured extra body keeps its precedence over everything else.
        body |= self._extra_body
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    async def _send(self, content: bytes, stream: bool) -> Any:
        """The response once its headers are in; a non-2xx status raises _StatusError."""
        headers = {**self._headers, "Accept": "text/event-stream" if stream else "application/json"}
        request = self._http.build_request("POST", self._url, content=content, headers=headers)
        response = await self._http.send(request, stream=True)
        if 200 <= response.status_code < 300:
            return response
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= _ERROR_BODY_BYTES:
                    break
        except self._httpx.HTTPError:
            pass  # the status says enough
        finally:
            await response.aclose()
        text = body[:_ERROR_BODY_BYTES].decode("utf-8", errors="replace")
        raise _StatusError(response.status_code, text, response.headers)

    async def _request(
        self,
        request: ChatRequest,
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None],
        *,
        stream: bool,
    ) -> ModelReply:
        httpx = self._httpx
        content = self._body(request, stream)
        attempt = 0
        while True:
            try:
                response = await self._send(content, stream)
                try:
                    # From here on nothing is retried: output may already have been shown.
                    reader = _Body(response)
                    content_type = response.headers.get("content-type", "")
                    if stream and "event-stream" in content_type:
                        return await read_stream(reader, on_text, on_notice)
                    return await read_completion(reader, on_text, on_notice)
                finally:
                    await response.aclose()
            except CrossOriginRedirect as exc:
                raise BackendError(str(exc), "unreachable") from None
            except _StatusError as exc:
                status = exc.status_code
                error = map_status_error(status, exc.text, self._shown_url or "")
                delay = _retry_delay(exc.headers, attempt)
                if status == 429 and delay is None:
                    raise BackendError(
                        "the backend is rate limiting and asks to wait longer than "
                        f"{MAX_RETRY_AFTER_S:.0f} s; try again later",
                        "rate_limited",
                    ) from None
                if not _retryable(status) or attempt >= self._max_retries or delay is None:
                    raise error from None
                reason = "rate limited (429)" if status == 429 else f"the backend failed ({status})"
                limit = self._max_retries
            except httpx.TimeoutException:
                if attempt >= self._max_retries:
                    raise BackendError(
                        f"the backend at {self._shown_url} did not answer within the request "
                        "timeout (requestTimeout)",
                        "timeout",
                    ) from None
                delay, reason = _backoff(attempt), "the backend did not answer in time"
                limit = self._max_retries
            except httpx.HTTPError as exc:
                if (refusal := find_redirect_refusal(exc)) is not None:
                    raise BackendError(str(refusal), "unreachable") from None
                limit = min(self._max_retries, MAX_CONNECT_RETRIES)
                if attempt >= limit:
                    raise BackendError(
                        f"cannot reach the model backend at {self._shown_url}: is the server "
                        "running? (check baseUrl / OPENAI_BASE_URL)",
                        "unreachable",
                    ) from None
                delay, reason = _backoff(attempt), "cannot reach the backend"
            attempt += 1
            on_notice(f"{reason}, retrying in {delay:.1f} s (retry {attempt} of {limit})")
            await asyncio.sleep(delay)


def _is_empty(reply: ModelReply) -> bool:
    return not reply.text.strip() and not reply.tool_calls and reply.finish_reason != "length"


def _retryable(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def _backoff(attempt: int) -> float:
    return float(min(8.0, 0.5 * (2**attempt)) * (0.8 + 0.4 * random.random()))


class _StatusError(Exception):
    """A non-2xx answer, with what its mapping and the retry rule need."""

    def __init__(self, status_code: int, text: str, headers: Any) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.text = text
        self.headers = headers


class _Body:
    """An httpx response as stream_reply reads it (`iter_bytes`, as the SDK's response had)."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def iter_bytes(self) -> Any:
        return self._response.aiter_bytes()


def _retry_delay(headers: Any, attempt: int) -> float | None:
    """None means the server asked for a wait longer than we are willing to block a turn."""
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            return _backoff(attempt)  # an HTTP date: rare from model servers
        return None if seconds > MAX_RETRY_AFTER_S else max(0.0, seconds)
    return _backoff(attempt)
