"""Token accounting: how big a request really is, and how big the model's window is.

Sizes are measured on exactly what goes on the wire (the system message, the wire form of
every message, the tool schemas), in characters of their JSON encoding. Characters become
tokens through a ratio: 4 characters a token until the backend reports `prompt_tokens` for a
request we measured, then the ratio that report implies (so later estimates track the real
tokenizer). The uncalibrated estimate is stated as +/- 30%: code and JSON tokenise at roughly
3 to 5 characters a token with the tokenizers of common open models.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.llm.base import Usage
from claw_lsp.llm.origin import fetch_json
from claw_lsp.llm.probe import context_window_from_entry

DEFAULT_CHARS_PER_TOKEN = 4.0
UNCALIBRATED_ERROR = 0.30
CALIBRATED_ERROR = 0.10
# Without metadata or configuration: small enough for a default Ollama or llama.cpp set-up to
# be compacted before it overflows, large enough for an agent's prompt, tools and a few files.
DEFAULT_CONTEXT_WINDOW = 16_384
# A single odd usage report (a proxy that counts cached tokens apart) must not wreck the ratio.
_RATIO_BOUNDS = (1.5, 8.0)
_WINDOW_IN_ERROR = re.compile(r"(?:context length|context window|n_ctx)\D{0,40}?(\d[\d,]{2,})")
_MODELS_TIMEOUT_S = 5.0
_MODELS_MAX_BYTES = 2_000_000


def json_chars(value: Any) -> int:
    """Characters of the JSON encoding: the unit every size here is counted in."""
    return len(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True)
class RequestSize:
    system_chars: int
    tools_chars: int
    message_chars: int

    @property
    def total_chars(self) -> int:
        return self.system_chars + self.tools_chars + self.message_chars


def measure_request(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> RequestSize:
    """Size of a request whose first message is the system message, as sent."""
    system = json_chars(messages[0]) if messages else 0
    rest = sum(json_chars(m) for m in messages[1:])
    return RequestSize(system, json_chars(list(tools)) if tools else 0, rest)


class RequestSizer:
    """measure_request with every part measured once (issue 22): a message when it is first
    seen (by identity: the wire model hands back the same wire form for an unchanged message),
    the system message and the tools when they change. A request then costs one look-up per
    message and no encoding; an entry holds its message, so an id is never reused under it."""

    def __init__(self) -> None:
        self._messages: dict[int, tuple[Mapping[str, Any], int]] = {}
        self._system: tuple[Any, int] = (None, 0)
        self._tools: tuple[list[Mapping[str, Any]], int] = ([], 0)

    def measure(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
    ) -> RequestSize:
        system = self._system_chars(messages[0]) if messages else 0
        cache = self._messages
        total = 0
        for index in range(1, len(messages)):
            message = messages[index]
            entry = cache.get(id(message))
            if entry is None or entry[0] is not message:
                entry = cache[id(message)] = (message, json_chars(message))
            total += entry[1]
        if len(cache) > 2 * len(messages) + 64:  # compacted away, or another session's
            self._messages = {id(m): cache[id(m)] for m in messages[1:] if id(m) in cache}
        return RequestSize(system, self._tools_chars(tools), total)

    def _system_chars(self, message: Mapping[str, Any]) -> int:
        key = (message.get("role"), message.get("content"))
        if self._system[0] != key:
            self._system = (key, json_chars(message))
        return self._system[1]

    def _tools_chars(self, tools: Sequence[Mapping[str, Any]]) -> int:
        known = self._tools[0]
        if len(known) != len(tools) or any(a is not b for a, b in zip(known, tools, strict=True)):
            self._tools = (list(tools), json_chars(list(tools)) if tools else 0)
        return self._tools[1]


@dataclass
class WindowInfo:
    tokens: int
    source: str


@dataclass
class ContextStats:
    """What one session has learned about its backend; kept in memory for the server run."""

    chars_per_token: float | None = None  # None until the backend reported usage
    metadata_window: WindowInfo | None = None
    overflow_window: WindowInfo | None = None  # learned from a "context length exceeded" error
    last_request_chars: int = 0
    last_request_estimate: int = 0
    last_reported_prompt_tokens: int | None = None
    requests: int = 0
    compactions: int = 0
    text_mode: bool = False  # tools described in the system prompt instead of `tools`
    metadata_checked: set[str] = field(default_factory=set)
    sizer: RequestSizer = field(default_factory=RequestSizer)  # sizes cached for the session

    def ratio(self) -> float:
        return self.chars_per_token or DEFAULT_CHARS_PER_TOKEN

    def error_margin(self) -> float:
        return CALIBRATED_ERROR if self.chars_per_token else UNCALIBRATED_ERROR

    def tokens(self, chars: int) -> int:
        return max(1, round(chars / self.ratio())) if chars > 0 else 0

    def observe(self, size: RequestSize, usage: Usage | None) -> None:
        """Remember a request as sent, and calibrate on the backend's count when it gave one."""
        self.requests += 1
        self.last_request_chars = size.total_chars
        self.last_request_estimate = self.tokens(size.total_chars)
        reported = usage.prompt_tokens if usage is not None else 0
        self.last_reported_prompt_tokens = reported or None
        if reported > 0 and size.total_chars > 0:
            low, high = _RATIO_BOUNDS
            self.chars_per_token = min(high, max(low, size.total_chars / reported))

    def learn_overflow(self, size: RequestSize, error_text: str) -> None:
        """The request did not fit: the window is what the error says, else below this size."""
        match = _WINDOW_IN_ERROR.search(error_text.lower())
        if match:
            self.overflow_window = WindowInfo(
                int(match.group(1).replace(",", "")), "the backend's context-length error"
            )
            return
        bound = max(512, int(self.tokens(size.total_chars) * 0.9))
        if self.overflow_window is None or bound < self.overflow_window.tokens:
            self.overflow_window = WindowInfo(bound, "below a request the backend refused")


def resolve_window(configured: int | None, stats: ContextStats | None) -> WindowInfo:
    """Backend metadata, else configuration, else a conservative default; a window learned
    from an overflow, and a configured one smaller than the metadata, both win (a server may
    run a model with less context than it was trained for)."""
    candidates: list[WindowInfo] = []
    if stats is not None and stats.metadata_window is not None:
        candidates.append(stats.metadata_window)
    if configured:
        candidates.append(WindowInfo(configured, "configured (contextWindow)"))
    if stats is not None and stats.overflow_window is not None:
        candidates.append(stats.overflow_window)
    if not candidates:
        return WindowInfo(DEFAULT_CONTEXT_WINDOW, "default (no metadata or configuration)")
    return min(candidates, key=lambda info: info.tokens)


async def fetch_metadata_window(
    stats: ContextStats, base_url: str | None, model: str, api_key: str | None
) -> None:
    """Ask /v1/models once per session and backend for the model's context window."""
    if not base_url or base_url in stats.metadata_checked:
        return
    stats.metadata_checked.add(base_url)
    try:
        entries = await asyncio.to_thread(_model_entries, base_url, api_key)
    except Exception:  # metadata is optional; any failure just means "not given"
        return
    entry = next((e for e in entries if e.get("id") == model), None)
    if entry is None and len(entries) == 1:
        entry = entries[0]
    found = context_window_from_entry(entry) if entry is not None else None
    if found is not None:
        stats.metadata_window = WindowInfo(found[0], found[1])


def _model_entries(base_url: str, api_key: str | None) -> list[dict[str, Any]]:
    # fetch_json follows no redirect to another origin: the key stays with the backend.
    url = base_url.rstrip("/") + "/models"
    payload = fetch_json(url, api_key, _MODELS_TIMEOUT_S, _MODELS_MAX_BYTES)
    data = payload.get("data") if isinstance(payload, dict) else None
    return [e for e in data or [] if isinstance(e, dict)]
