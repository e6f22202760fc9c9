"""What the editors' chat panes show beside their input (issue 20): the backend's models for the
model picker (`claw.models`) and the context meter of `claw/status` (tokens of the last request
of the folder's current session, the model's window, the compaction threshold)."""

from __future__ import annotations

import asyncio
from typing import Any

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.state import FolderState
from claw_lsp.context.tokens import resolve_window
from claw_lsp.llm.origin import fetch_json

_MODELS_TIMEOUT_S = 10.0
_MODELS_MAX_BYTES = 2_000_000


def _model_names(base_url: str, api_key: str | None) -> list[str]:
    payload = fetch_json(
        base_url.rstrip("/") + "/models", api_key, _MODELS_TIMEOUT_S, _MODELS_MAX_BYTES
    )
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return []
    return [str(m["id"]) for m in payload["data"] if isinstance(m, dict) and "id" in m]


async def list_models(core: AgentCore, state: FolderState) -> dict[str, Any]:
    """`{models, current}`: what the backend's /models lists, the current model first when the
    backend does not list it. A backend that cannot list gives just the current model."""
    settings = core.settings_for(state)
    current = core.status(state.root.uri)["backend"].get("model")
    names: list[str] = []
    if settings.base_url:
        try:
            names = await asyncio.to_thread(_model_names, settings.base_url, settings.api_key)
        except Exception:
            names = []  # unreachable, a refused redirect, not JSON: the picker still works
    if current and current not in names:
        names.insert(0, current)
    return {"models": names, "current": current}


def context_fields(core: AgentCore, folder: str | None) -> dict[str, Any]:
    """`contextTokens` (the backend's count for the last request, else claw's estimate; 0 before
    any), `contextWindow` and `compactThreshold` for the folder's current session."""
    state = core.folder(folder)
    settings = core.settings_for(state)
    session = core.index.about(state, None)
    stats = session.context if session else None
    used = 0
    if stats is not None:
        used = stats.last_reported_prompt_tokens or stats.last_request_estimate
    return {
        "contextTokens": used,
        "contextWindow": resolve_window(settings.context_window, stats).tokens,
        "compactThreshold": settings.compact_threshold,
    }
