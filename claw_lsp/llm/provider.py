"""Which ChatModel serves a request: the configured backend, else the embedded demo model,
else one clear error that says how to configure a backend."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from claw_lsp.config import NO_BACKEND_MESSAGE, Settings
from claw_lsp.foundation.secrets import display_url, register_url_credentials
from claw_lsp.llm.base import BackendError
from claw_lsp.llm.openai_compat import MAX_RETRIES, OpenAICompatModel
from claw_lsp.llm.origin import CrossOriginRedirect, fetch_json
from claw_lsp.llm.probe import ProbeCache, ProbeReport
from claw_lsp.llm.template_hint import fetch_template_family
from claw_lsp.llm.text_mode import choose_tool_mode
from claw_lsp.llm.toolcalls.detect import FamilyGuess, detect_family
from claw_lsp.llm.wire import WireModel

if TYPE_CHECKING:  # the demo model's code loads only when no backend is configured
    from claw_lsp.llm.embedded import EmbeddedBackend

EMBEDDED_NOTE = (
    "the embedded SmolLM2-135M demo model: fine for trying claw_lsp out, far too small for real "
    "work. Point claw at Ollama, vLLM or a LiteLLM proxy with OPENAI_BASE_URL / claw.baseUrl."
)

# SmolLM2 on two busy CPU cores can take well over the default 20 s for one probe request.
EMBEDDED_PROBE_TIMEOUT_S = 90.0
EMBEDDED_REQUEST_TIMEOUT_S = 600.0


class ModelProvider:
    def __init__(self) -> None:
        self._models: dict[tuple[str, str, str, str, bool], WireModel] = {}
        # One probe per backend per process, shared by doctor, /status and toolMode auto.
        self.probes = ProbeCache()
        self._embedded: EmbeddedBackend | None = None
        self._discovered: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def get(self, settings: Settings) -> WireModel:
        async with self._lock:
            base_url, model = await self._endpoint(settings)
            configured_mode = settings.tool_mode
            key = (
                base_url,
                model,
                settings.api_key or "",
                configured_mode,
                settings.text_tool_calls,
            )
            if key not in self._models:
                probed = self.probes.peek(base_url, settings.api_key, model)
                backend = OpenAICompatModel(
                    base_url=base_url,
                    model=model,
                    api_key=settings.api_key,
                    connect_timeout=settings.connect_timeout,
                    # The embedded model runs on the CPU and serves one request at a time: give
                    # it time, and do not queue retries behind a request it is still working on.
                    read_timeout=settings.request_timeout
                    if settings.base_url
                    else max(settings.request_timeout, EMBEDDED_REQUEST_TIMEOUT_S),
                    max_retries=MAX_RETRIES if settings.base_url else 0,
                    stream=bool(settings.base_url),  # the embedded server cannot stream tools
                    # The demo model rambles on 2 CPU cores: keep its answers short.
                    extra_body=None if settings.base_url else {"max_tokens": 384},
                    retry_empty_stream=settings.empty_stream_retry,
                )
                # The mode is fixed per model instance, so the system prompt stays byte-stable
                # for every session on this backend.
                self._models[key] = WireModel(
                    backend,
                    tool_mode=choose_tool_mode(
                        configured_mode, probed.tool_calls if probed else None
                    ),
                    text_calls=settings.text_tool_calls,
                    context_window=self.embedded_context_window(base_url),
                    tool_family=await self._tool_family(settings, base_url, model, probed),
                )
            return self._models[key]

    async def _tool_family(
        self, settings: Settings, base_url: str, model: str, probed: ProbeReport | None
    ) -> FamilyGuess:
        """Issue 15: the family the model writes text calls in, from what the server says
        about its chat template (cheap, no model call), the probe, or the model id."""
        template, source = probed.tool_call_family if probed else None, ""
        if probed is not None:
            source = probed.tool_call_family_source or ""
        elif settings.base_url:
            template, source = await asyncio.to_thread(
                fetch_template_family, base_url, settings.api_key, model
            )
        observed = probed.text_call_family if probed else None
        return detect_family(
            model, template_family=template, template_source=source, observed_family=observed
        )

    async def probe(self, base_url: str, api_key: str | None, model: str) -> ProbeReport:
        """The backend's probe report, cached; the embedded model runs on the CPU: be patient."""
        slow = self.embedded_context_window(base_url) is not None
        timeout_s = EMBEDDED_PROBE_TIMEOUT_S if slow else None
        return await self.probes.get(base_url, api_key, model, timeout_s=timeout_s)

    def embedded_context_window(self, base_url: str) -> int | None:
        """n_ctx of the embedded server at base_url: llama-cpp-python does not report it."""
        embedded = self._embedded
        if embedded is not None and embedded.base_url == base_url:
            return embedded.n_ctx
        return None

    def tool_family(self, base_url: str, api_key: str | None, model: str) -> FamilyGuess:
        """The family of a model already in use for this backend, else what is known now."""
        for (url, name, *_), instance in self._models.items():
            if url == base_url and name == model:
                return instance.tool_family
        probed = self.probes.peek(base_url, api_key, model)
        if probed is None:
            return detect_family(model)
        return detect_family(
            model,
            template_family=probed.tool_call_family,
            template_source=probed.tool_call_family_source or "",
            observed_family=probed.text_call_family,
        )

    def active_tool_mode(self, base_url: str, model: str) -> str | None:
        """The tool mode of a model already in use for this backend, if there is one."""
        for (url, name, *_), instance in self._models.items():
            if url == base_url and name == model:
                return instance.tool_mode
        return None

    async def endpoint(self, settings: Settings) -> tuple[str, str]:
        """(base_url, model) that requests would go to; starts the embedded model if needed."""
        async with self._lock:
            return await self._endpoint(settings)

    async def _endpoint(self, settings: Settings) -> tuple[str, str]:
        if settings.base_url:
            # A password or key inside the URL is a secret like the API key (issue 13).
            register_url_credentials(settings.base_url)
            model = settings.model or await self._first_model(settings)
            return settings.base_url, model
        from claw_lsp.llm.embedded import EmbeddedBackend, find_embedded_model

        info = find_embedded_model()
        if info is None:
            raise BackendError(NO_BACKEND_MESSAGE, "not_configured")
        if self._embedded is None:
            self._embedded = EmbeddedBackend(info)
        try:
            url = await self._embedded.start()
        except Exception as exc:
            raise BackendError(
                f"the embedded model failed to start: {exc}", "unreachable"
            ) from None
        return url, info.alias

    async def _first_model(self, settings: Settings) -> str:
        """No model configured: use the backend's first model, as vLLM serves exactly one."""
        assert settings.base_url
        if settings.base_url in self._discovered:
            return self._discovered[settings.base_url]
        try:
            names = await asyncio.to_thread(
                _list_models, settings.base_url, settings.api_key, settings.connect_timeout + 5
            )
        except CrossOriginRedirect as exc:
            raise BackendError(str(exc), "unreachable") from None
        except Exception:
            names = []
        if not names:
            raise BackendError(
                f"no model is configured and {display_url(settings.base_url)}/models lists "
                "none: set OPENAI_MODEL or claw.model",
                "not_configured",
            )
        self._discovered[settings.base_url] = names[0]
        return names[0]

    async def available_models(self, settings: Settings) -> list[str]:
        """What the configured backend lists at /models (a model picker's choices); empty when
        it lists none, cannot be reached or is the embedded model."""
        if not settings.base_url:
            return []
        try:
            return await asyncio.to_thread(
                _list_models, settings.base_url, settings.api_key, settings.connect_timeout + 5
            )
        except Exception:
            return []

    def describe(self, settings: Settings) -> dict[str, Any]:
        if settings.base_url:
            model = settings.model or self._discovered.get(settings.base_url)
            register_url_credentials(settings.base_url)
            return {
                "baseUrl": display_url(settings.base_url),
                "model": model,
                "embedded": False,
                "source": settings.backend_source,
                "toolFamily": self.tool_family(
                    settings.base_url, settings.api_key, model or ""
                ).to_dict(),
            }
        from claw_lsp.llm.embedded import find_embedded_model

        info = find_embedded_model()
        if info is None:
            return {"baseUrl": None, "model": None, "embedded": False, "error": NO_BACKEND_MESSAGE}
        url = self._embedded.base_url if self._embedded else None
        return {"baseUrl": url, "model": info.alias, "embedded": True, "note": EMBEDDED_NOTE}

    async def close(self) -> None:
        for model in self._models.values():
            try:
                await model.close()
            except Exception:
                pass
        if self._embedded is not None:
            await self._embedded.stop()


def _list_models(base_url: str, api_key: str | None, timeout: float) -> list[str]:
    payload = fetch_json(base_url.rstrip("/") + "/models", api_key, timeout, 2_000_000)
    if not isinstance(payload, dict):
        return []
    return [str(m["id"]) for m in payload.get("data", []) if isinstance(m, dict) and "id" in m]
