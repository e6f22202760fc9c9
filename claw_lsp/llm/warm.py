"""A fast first request (issue 22): the model client's imports and construction are done in
the background right after `initialize` answers (and at CLI start), not on the first request.

Chat requests go out through httpx (llm/openai_compat.py); its import, the modules that read a
reply, and a first origin-guarded client (which loads the TLS trust store) need neither the
network nor the settings, so a throwaway client pointed nowhere warms them; nothing is sent, no
backend is contacted, nothing the user configured is read. Imports are thread-safe (per-module
locks): a first request that comes early waits for the import the thread started, never does
it twice. The openai SDK (the probe, doctor) is not loaded: it would cost idle memory.
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
        from claw_lsp.llm import openai_compat, stream_reply, wire  # noqa: F401  (and imports)
        from claw_lsp.llm.origin import guarded_http_client

        client = guarded_http_client(_NOWHERE)
        client.build_request("POST", _NOWHERE + "/chat/completions", content=b"{}")
        log.info("%s in %.0f ms", WARM_LOG_LINE, (time.perf_counter() - started) * 1000)
    except Exception:  # a warm-up only: the first request does (and reports) it for real
        log.debug("warming the model client failed", exc_info=True)
