"""What can this backend do? The probe behind `claw-lsp doctor` and `/status`.

One probe: list models, guess the server kind, find the context window, make a tiny real tool
call (structured, or as text the agent can parse), and stream it to see whether tool-call
arguments arrive as deltas. It never raises: every failure becomes part of the report, and every
string in the report is redacted. `ProbeCache` runs it once per backend per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING, Any

from claw_lsp.llm.arguments import parse_arguments
from claw_lsp.llm.backend_facts import (
    MAX_LISTED_IN_WARNING,
    OLLAMA_NUM_CTX_ADVICE,
    SMALL_CONTEXT,
    ProbeReport,
    context_window_from_entry,
    describe_error,
    format_report,
    guess_backend_kind,
    ollama_num_ctx,
    prefix_cache_statement,
    redacted,
)
from claw_lsp.llm.origin import guarded_http_client
from claw_lsp.llm.template_hint import template_family
from claw_lsp.llm.toolcall_text import extract_text_tool_calls

if TYPE_CHECKING:
    import openai

__all__ = ["ProbeCache", "ProbeReport", "describe_error", "format_report", "probe_backend"]

PROBE_TOOL_NAME = "get_weather"
PROBE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": PROBE_TOOL_NAME,
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}
PROBE_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant. Use the tools when useful."},
    {"role": "user", "content": "What is the weather in Paris? Call get_weather."},
]
FORCED_CHOICE: dict[str, Any] = {"type": "function", "function": {"name": PROBE_TOOL_NAME}}


class _Probe:
    """The steps of one probe; each step records into `report` and never raises."""

    def __init__(self, client: openai.AsyncOpenAI, report: ProbeReport, timeout_s: float) -> None:
        self.client = client
        self.report = report
        self.timeout_s = timeout_s
        self.root_url = report.base_url.rstrip("/").removesuffix("/v1")
        self.first_prompt_tokens: int | None = None
        self.cached_tokens: int | None = None

    def _error(self, exc: BaseException) -> str:
        return describe_error(exc, self.report.base_url, self.timeout_s)

    async def list_models(self) -> tuple[list[dict[str, Any]], dict[str, str]] | None:
        """The /models entries and response headers; None when the probe must stop here."""
        import openai

        report = self.report
        try:
            raw = await self.client.models.with_raw_response.list()
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            report.reachable, report.error = True, self._error(exc)
            return None
        except openai.APIStatusError as exc:
            # Some proxies have no /models; chat may still work, so go on without the list.
            report.reachable = True
            report.warnings.append(f"listing models failed: {self._error(exc)}")
            return [], {}
        except openai.APIConnectionError as exc:
            report.error = self._error(exc)
            return None
        report.reachable = True
        try:
            payload = raw.http_response.json()
        except ValueError:
            report.warnings.append("the models endpoint returned invalid JSON")
            return [], dict(raw.headers)
        data = payload.get("data") if isinstance(payload, dict) else None
        entries = [entry for entry in data or [] if isinstance(entry, dict)]
        report.models = [str(entry["id"]) for entry in entries if "id" in entry]
        listed = {report.model, f"{report.model}:latest"} & set(report.models)
        report.model_listed = bool(listed) if report.models else None
        if report.model_listed is False:
            shown = ", ".join(report.models[:MAX_LISTED_IN_WARNING])
            report.warnings.append(f"model {report.model!r} is not listed; available: {shown}")
        return entries, dict(raw.headers)

    async def _get_json(self, path: str, body: dict[str, Any] | None = None) -> Any | None:
        """GET (or POST with a body) a path beside /v1; None when it is not there."""
        import openai

        url = f"{self.root_url}{path}"
        try:
            if body is None:
                return await self.client.get(url, cast_to=object)
            return await self.client.post(url, body=body, cast_to=object)
        except (openai.APIError, ValueError):
            return None

    async def identify(self, entries: list[dict[str, Any]], headers: dict[str, str]) -> None:
        report = self.report
        kind = guess_backend_kind(entries, headers, report.base_url)
        if kind == "unknown":
            version = await self._get_json("/api/version")
            if isinstance(version, dict) and "version" in version:
                kind = "ollama"
        report.backend_kind = kind
        entry = next((e for e in entries if e.get("id") == report.model), None)
        found = context_window_from_entry(entry) if entry is not None else None
        if found is not None:
            report.context_window, report.context_source = found
        if kind == "ollama":
            await self._ollama_context()
        elif kind == "llama.cpp":
            props = await self._get_json("/props")
            report.tool_call_family, report.tool_call_family_source = template_family(props, 0)
            settings = props.get("default_generation_settings") if isinstance(props, dict) else None
            n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
            if isinstance(n_ctx, int):
                report.context_window, report.context_source = n_ctx, "llama.cpp /props n_ctx"
        elif kind == "litellm" and report.context_window is None:
            await self._litellm_context()

    async def _ollama_context(self) -> None:
        report = self.report
        shown = await self._get_json("/api/show", {"model": report.model})
        report.tool_call_family, report.tool_call_family_source = template_family(shown, 1)
        num_ctx, model_max = ollama_num_ctx(shown)
        if num_ctx is not None:
            report.context_window, report.context_source = num_ctx, "ollama /api/show num_ctx"
        if num_ctx is None or num_ctx < SMALL_CONTEXT:
            limit = f"num_ctx is {num_ctx}" if num_ctx else "num_ctx is the server default"
            maximum = f" (the model supports {model_max})" if model_max else ""
            report.warnings.append(
                f"Ollama silently truncates prompts longer than num_ctx; {limit}{maximum}. "
                + OLLAMA_NUM_CTX_ADVICE
            )

    async def _litellm_context(self) -> None:
        info = await self._get_json("/model/info")
        for item in info.get("data", []) if isinstance(info, dict) else []:
            if not isinstance(item, dict) or item.get("model_name") != self.report.model:
                continue
            model_info = item.get("model_info")
            limit = model_info.get("max_input_tokens") if isinstance(model_info, dict) else None
            if isinstance(limit, int):
                self.report.context_window = limit
                self.report.context_source = "litellm /model/info max_input_tokens"
                return

    async def _complete(self, tool_choice: Any) -> Any:
        return await self.client.chat.completions.create(
            model=self.report.model,
            messages=PROBE_MESSAGES,  # type: ignore[arg-type]  # plain JSON, as sent
            tools=[PROBE_TOOL],  # type: ignore[list-item]
            tool_choice=tool_choice,
            temperature=0,
            max_tokens=128,
        )

    def _structured_mode(self, completion: Any) -> bool:
        message = completion.choices[0].message if completion.choices else None
        calls = list(getattr(message, "tool_calls", None) or [])
        usage = getattr(completion, "usage", None)
        if usage is not None and self.first_prompt_tokens is None:
            self.first_prompt_tokens = getattr(usage, "prompt_tokens", None)
        if not calls:
            return False
        function = calls[0].function
        if function.name != PROBE_TOOL_NAME:
            self.report.warnings.append(f"the model called an unknown tool {function.name!r}")
        elif not parse_arguments(function.arguments).ok:
            self.report.warnings.append(
                f"tool-call arguments are not valid JSON: {function.arguments[:120]!r}"
            )
        return True

    async def tool_round_trip(self) -> Any:
        """Set report.tool_calls; return the tool_choice that worked (for the stream test)."""
        import openai

        report = self.report
        try:
            completion = await self._complete("auto")
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            report.tool_calls, report.error = "error", self._error(exc)  # nothing else will work
            return None
        except openai.APIError as exc:
            report.tool_calls = "error"
            report.warnings.append(f"tool-call request failed: {self._error(exc)}")
            if isinstance(exc, openai.NotFoundError) and not report.models:
                report.error = "HTTP 404 for both /models and /chat/completions: check the base "
                report.error += "URL (it usually ends in /v1) and the model name"
            return None
        if self._structured_mode(completion):
            report.tool_calls = "structured"
            return "auto"
        message = completion.choices[0].message if completion.choices else None
        content = getattr(message, "content", None) or ""
        _, text_calls = extract_text_tool_calls(content, {PROBE_TOOL_NAME})
        if text_calls:
            report.tool_calls = "text"
            report.text_call_family = text_calls[0].family
            report.warnings.append(
                "tool calls come back as text in the reply; claw_lsp parses them, but a "
                "server-side tool parser is more reliable (vLLM: --enable-auto-tool-choice "
                "--tool-call-parser NAME; llama.cpp: --jinja)"
            )
            return "auto"
        try:
            forced = await self._complete(FORCED_CHOICE)
        except openai.APIError:
            forced = None
        if forced is not None and self._structured_mode(forced):
            report.tool_calls = "structured"
            report.warnings.append(
                "the model calls tools only when forced; with tool_choice 'auto' it answered "
                "in plain text"
            )
            return FORCED_CHOICE
        report.tool_calls = "none"
        report.warnings.append("no tool call came back: the agent cannot use tools here")
        return None

    async def _stream_has_tool_deltas(self, tool_choice: Any) -> bool:
        import openai

        request: dict[str, Any] = {
            "model": self.report.model, "messages": PROBE_MESSAGES, "tools": [PROBE_TOOL],
            "tool_choice": tool_choice, "temperature": 0, "max_tokens": 128, "stream": True,
            "stream_options": {"include_usage": True},
            # A server that fails mid-stream leaves a dead keep-alive connection in the pool.
            "extra_headers": {"Connection": "close"},
        }  # fmt: skip
        try:
            stream = await self.client.chat.completions.create(**request)
        except openai.BadRequestError:  # a strict server that refuses stream_options
            del request["stream_options"]
            stream = await self.client.chat.completions.create(**request)
        saw_deltas = False
        async for chunk in stream:
            for choice in chunk.choices or []:
                saw_deltas = saw_deltas or bool(getattr(choice.delta, "tool_calls", None))
            details = getattr(getattr(chunk, "usage", None), "prompt_tokens_details", None)
            if details is not None and getattr(details, "cached_tokens", None) is not None:
                self.cached_tokens = int(details.cached_tokens)
        return saw_deltas

    async def stream_tool_call(self, tool_choice: Any) -> None:
        """Stream the same request; do tool-call arguments arrive as deltas?"""
        import openai

        report = self.report
        try:
            if await self._stream_has_tool_deltas(tool_choice):
                report.streaming_tool_deltas = True
                return
            if report.tool_calls != "structured":
                return  # nothing structured to stream: the question does not apply
            # llama-cpp-python refuses tool_choice "auto" when streaming, yet streams forced calls.
            if tool_choice == "auto" and await self._stream_has_tool_deltas(FORCED_CHOICE):
                report.streaming_tool_deltas = True
                report.warnings.append(
                    "streamed tool calls arrive only when tool_choice names the tool; with "
                    "'auto' the stream carried none, so stream tool turns without 'auto' or "
                    "do them without streaming"
                )
                return
        except openai.APIError as exc:
            report.warnings.append(f"streamed tool call failed: {self._error(exc)}")
            return
        report.streaming_tool_deltas = False
        report.warnings.append(
            "tool calls vanish when streaming (known Ollama behaviour); the agent needs a "
            "non-streaming retry for tool turns"
        )

    def conclude(self) -> None:
        report = self.report
        report.prefix_cache = prefix_cache_statement(
            report.backend_kind, self.cached_tokens, self.first_prompt_tokens
        )
        if report.context_window is not None and report.context_window < SMALL_CONTEXT:
            report.warnings.append(
                f"context window {report.context_window} tokens is small for an agent "
                f"(aim for {SMALL_CONTEXT} or more)"
            )


async def probe_backend(
    *,
    base_url: str,
    api_key: str | None,
    model: str,
    timeout_s: float = 20.0,
    round_trip: bool = True,
) -> ProbeReport:
    """Probe one backend; never raises. Every string in the result is redacted."""
    import openai  # lazily: the slowest import, not needed to start the server

    started = time.monotonic()
    report = ProbeReport(base_url=base_url.rstrip("/"), model=model)
    secrets = [api_key] if api_key else []
    client: openai.AsyncOpenAI | None = None
    try:
        client = openai.AsyncOpenAI(
            base_url=report.base_url,
            # A placeholder rather than None: the client would read OPENAI_API_KEY instead.
            api_key=api_key or "no-key-configured",
            max_retries=0,
            timeout=openai.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            http_client=guarded_http_client(report.base_url),  # the key stays with its origin
        )
        probe = _Probe(client, report, timeout_s)
        # Per-request timeouts bound each read; this bounds the sum of all steps.
        async with asyncio.timeout(max(3 * timeout_s, 10.0)):
            listing = await probe.list_models()
            if listing is not None:
                await probe.identify(*listing)
                if round_trip:
                    tool_choice = await probe.tool_round_trip()
                    if tool_choice is not None:
                        await probe.stream_tool_call(tool_choice)
                probe.conclude()
    except TimeoutError:
        report.warnings.append(f"the probe was cut off after {max(3 * timeout_s, 10.0):g} s")
    except Exception as exc:  # the probe is diagnostics: report, never crash the caller
        report.error = report.error or describe_error(exc, report.base_url, timeout_s)
    finally:
        if client is not None:
            await client.close()
    if not api_key and report.error and "401" in report.error:
        report.error += " (no API key is configured)"
    report.duration_s = time.monotonic() - started
    return redacted(report, secrets)


class ProbeCache:
    """One probe per backend for the process lifetime; concurrent callers share it."""

    def __init__(self, *, timeout_s: float = 20.0, round_trip: bool = True) -> None:
        self.timeout_s = timeout_s
        self.round_trip = round_trip
        self._probes: dict[tuple[str, str, str], asyncio.Task[ProbeReport]] = {}

    @staticmethod
    def _key(base_url: str, api_key: str | None, model: str) -> tuple[str, str, str]:
        # A changed key (after a 401) deserves a fresh probe; keep only a digest of it.
        digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:16]
        return base_url.rstrip("/"), model, digest

    async def get(
        self, base_url: str, api_key: str | None, model: str, *, timeout_s: float | None = None
    ) -> ProbeReport:
        """`timeout_s` per request overrides the default, e.g. for a model running on a CPU."""
        key = self._key(base_url, api_key, model)
        task = self._probes.get(key)
        if task is None or task.cancelled():
            task = asyncio.create_task(
                probe_backend(
                    base_url=base_url, api_key=api_key, model=model,
                    timeout_s=timeout_s or self.timeout_s, round_trip=self.round_trip,
                )
            )  # fmt: skip
            self._probes[key] = task
        # shield: a caller that gives up must not cancel the probe the others wait for.
        return await asyncio.shield(task)

    def peek(self, base_url: str, api_key: str | None, model: str) -> ProbeReport | None:
        """The finished report if there is one, without probing."""
        task = self._probes.get(self._key(base_url, api_key, model))
        if task is None or not task.done() or task.cancelled():
            return None
        return task.result()

    def clear(self) -> None:
        self._probes.clear()
