"""The chat template a local server exposes, read for the model's tool-call family.

llama.cpp's ``GET /props`` has ``chat_template``; Ollama's ``POST /api/show`` has ``template``.
Both are cheap (no model call), so a new model connection reads them once to know for sure
which markup the model writes its calls in (toolcalls/detect.py). Any failure means "unknown".
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from claw_lsp.llm.toolcalls.detect import family_from_template

MAX_RESPONSE_BYTES = 4_000_000
# (method, path beside /v1, key of the template, how /status and doctor name the source)
TEMPLATE_SOURCES = (
    ("GET", "/props", "chat_template", "the llama.cpp /props chat template"),
    ("POST", "/api/show", "template", "the Ollama /api/show template"),
)


def family_in(payload: Any, key: str) -> str | None:
    return family_from_template(payload.get(key)) if isinstance(payload, dict) else None


def template_family(payload: Any, source: int) -> tuple[str | None, str | None]:
    """(family, source name) that the payload of TEMPLATE_SOURCES[source] names, else Nones."""
    _, _, key, where = TEMPLATE_SOURCES[source]
    family = family_in(payload, key)
    return (family, where) if family is not None else (None, None)


def _fetch(url: str, method: str, api_key: str | None, model: str, timeout: float) -> Any:
    body = json.dumps({"model": model}).encode() if method == "POST" else None
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read(MAX_RESPONSE_BYTES))


def fetch_template_family(
    base_url: str, api_key: str | None, model: str, timeout: float = 2.0
) -> tuple[str | None, str]:
    """(family, source) from the first template endpoint that names one, else (None, "").

    Blocking: run it in a thread.
    """
    root = base_url.rstrip("/").removesuffix("/v1")
    for method, path, key, source in TEMPLATE_SOURCES:
        try:
            payload = _fetch(root + path, method, api_key, model, timeout)
        except urllib.error.HTTPError:
            continue  # not this kind of server: try the next endpoint
        except (OSError, ValueError):
            return None, ""  # not reachable (or not JSON): the other endpoint will not be either
        family = family_in(payload, key)
        if family is not None:
            return family, source
    return None, ""
