"""User-facing BackendErrors for what OpenAI-compatible servers send back when they fail.

Every message is safe to show: bodies are redacted and truncated, and the API key is never
echoed (SECURITY.md BF-02, BF-12).
"""

from __future__ import annotations

from typing import Any

from claw_lsp.foundation.secrets import redact
from claw_lsp.llm.base import BackendError

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
CONTEXT_LENGTH_MESSAGE = "the conversation is longer than the model's context window"


def shown_body(text: str) -> str:
    """A body as it may appear in an error: secrets redacted, whitespace collapsed, short."""
    collapsed = " ".join(redact(text).split())
    if len(collapsed) > MAX_BODY_IN_ERROR:
        return collapsed[:MAX_BODY_IN_ERROR] + "..."
    return collapsed


def invalid_response(body: str) -> BackendError:
    shown = shown_body(body)
    return BackendError(
        "the backend returned an invalid response (not a chat completion)"
        + (f": {shown}" if shown else ": an empty body"),
        "invalid_response",
    )


def is_context_overflow(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in CONTEXT_ERROR_MARKERS)


def map_status_error(status: int, body: str, base_url: str) -> BackendError:
    """An HTTP error status (and its body, not yet redacted) as a BackendError."""
    shown = shown_body(body)
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
    if status in (400, 413, 422) and is_context_overflow(body):
        return BackendError(CONTEXT_LENGTH_MESSAGE, "context_length")
    if status >= 500:
        return BackendError(f"the backend failed ({status}): {shown}", "server")
    return BackendError(f"the backend rejected the request ({status}): {shown}", "bad_request")


def error_from_payload(payload: dict[str, Any], *, partial_text: str = "") -> BackendError:
    """A 200 (or an SSE event) that carries `{"error": ...}` instead of a completion."""
    error = payload.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    text = message if isinstance(message, str) else str(error)
    if is_context_overflow(text):
        return BackendError(CONTEXT_LENGTH_MESSAGE, "context_length", partial_text=partial_text)
    return BackendError(
        f"the backend returned an invalid response (an error instead of a completion): "
        f"{shown_body(text)}",
        "invalid_response",
        partial_text=partial_text,
    )
