"""A fast first request (issue 22): the model client's imports and construction are done in
the background right after `initialize` answers (and at CLI start), not on the first request.

The `openai` SDK is the slowest import of the process and pulls in httpx and pydantic; its
first client also builds its resource classes. None of that needs the network or the settings,
so a throwaway client pointed nowhere warms it all; nothing is sent, no backend is contacted,
nothing the user configured is read. Imports are thread-safe (per-module locks): a first
request that comes early waits for the import the thread has started, never does it twice.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)
_NOWHERE = "http://127.0.0.1:9/v1"  # never contacted: the client is only constructed
_lock = threading.Lock()
_started: threading.Thread | None = None


def warm_model_client_in_background() -> threading.Thread:
    """Start the warm-up once per process; later calls return the same thread."""
    global _started
    with _lock:
        if _started is None:
            _started = threading.Thread(target=_warm, name="claw-warm-model-client", daemon=True)
            _started.start()
        return _started


WARM_LOG_LINE = "model client warmed in the background"


def _warm() -> None:
    started = time.perf_counter()
    try:
        import openai

        from claw_lsp.llm import openai_compat, stream_reply  # noqa: F401  (their imports too)
        from claw_lsp.llm.origin import guarded_http_client

        client = openai.AsyncOpenAI(
            base_url=_NOWHERE,
            api_key="none",
            max_retries=0,
            http_client=guarded_http_client(_NOWHERE),
        )
        _ = client.chat.completions.with_streaming_response  # builds the resource classes
        log.info("%s in %.0f ms", WARM_LOG_LINE, (time.perf_counter() - started) * 1000)
    except Exception:  # a warm-up only: the first request does (and reports) it for real
        log.debug("warming the model client failed", exc_info=True)
