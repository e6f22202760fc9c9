"""ChatModel over any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LiteLLM proxy).

The SDK's own retries are off: we retry only before the first byte of an answer, respect
Retry-After up to a cap, and never replay a half-consumed stream (a tool could run twice).
The body is read by stream_reply, which tolerates what local servers really send.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from claw_lsp.foundation.secrets import display_url, redact_message, register_url_credentials
from claw_lsp.llm.backend_errors import map_status_error
from claw_lsp.llm.base import BackendError, ChatRequest, ModelReply
from claw_lsp.llm.origin import CrossOriginRedirect, find_redirect_refusal, guarded_http_client
from claw_lsp.llm.stream_reply import read_completion, read_stream

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
        import openai  # imported lazily: it is the slowest import and not needed to initialize

        self.model_name = model
        self.base_url = base_url
        register_url_credentials(base_url)
        self._shown_url = display_url(base_url)
        self._max_retries = max_retries
        self._extra_body = dict(extra_body or {})
        # Some servers (llama-cpp-python with tool_choice auto) cannot stream tool calls.
        self._stream = stream
        self._retry_empty_stream = retry_empty_stream
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "none",
            max_retries=0,
            timeout=openai.Timeout(read_timeout, connect=connect_timeout, write=30.0, pool=5.0),
            # The key (and the conversation) never follow a redirect to another origin.
            http_client=guarded_http_client(base_url),
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
        reply = await self._request(request, on_text, on_notice, stream=self._stream)
        if self._stream and self._retry_empty_stream and request.tools and _is_empty(reply):
            # BF-11: Ollama may stream nothing at all for a tool turn; a plain request works.
            on_notice(EMPTY_STREAM_NOTICE)
            reply = await self._request(request, on_text, on_notice, stream=False)
        return reply

    def _kwargs(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        # History and tools travel in extra_body, which the SDK sends as is: as typed
        # arguments they would be walked by its TypedDict transform on every request, a cost
        # that grows with the history (issue 9). They are plain JSON already (wire_message).
        # Whatever assembled the messages, the model is sent no secret (issue 13, rule 5).
        body: dict[str, Any] = {"messages": [redact_message(m) for m in request.messages]}
        if request.tools:
            body["tools"] = list(request.tools)
        kwargs: dict[str, Any] = {"model": self.model_name, "messages": []}
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        # The configured extra body keeps its precedence over everything else.
        kwargs["extra_body"] = body | self._extra_body
        return kwargs

    async def _request(
        self,
        request: ChatRequest,
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None],
        *,
        stream: bool,
    ) -> ModelReply:
        openai = self._openai
        kwargs = self._kwargs(request, stream)
        attempt = 0
        while True:
            try:
                create = self._client.chat.completions.with_streaming_response.create
                async with create(**kwargs) as response:
                    # From here on nothing is retried: output may already have been shown.
                    content_type = response.headers.get("content-type", "")
                    if stream and "event-stream" in content_type:
                        return await read_stream(response, on_text, on_notice)
                    return await read_completion(response, on_text, on_notice)
            except CrossOriginRedirect as exc:
                raise BackendError(str(exc), "unreachable") from None
            except openai.APIStatusError as exc:
                status = exc.status_code
                error = map_status_error(status, _body_text(exc), self._shown_url or "")
                delay = _retry_delay(exc, attempt)
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
            except openai.APITimeoutError:
                if attempt >= self._max_retries:
                    raise BackendError(
                        f"the backend at {self._shown_url} did not answer within the request "
                        "timeout (requestTimeout)",
                        "timeout",
                    ) from None
                delay, reason = _backoff(attempt), "the backend did not answer in time"
                limit = self._max_retries
            except openai.APIConnectionError as exc:
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


def _retry_delay(exc: Any, attempt: int) -> float | None:
    """None means the server asked for a wait longer than we are willing to block a turn."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            return _backoff(attempt)  # an HTTP date: rare from model servers
        return None if seconds > MAX_RETRY_AFTER_S else max(0.0, seconds)
    return _backoff(attempt)


def _body_text(exc: Any) -> str:
    try:
        return str(exc.response.text)
    except Exception:
        return str(getattr(exc, "message", "") or "")
