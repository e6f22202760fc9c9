"""Credentials stay with their origin: nothing that carries the API key follows a redirect to
another origin (scheme, host or port).

httpx drops `Authorization` on a cross-origin redirect but keeps it for an http -> https
upgrade of the same host, and follows 307/308 with the whole request body (the conversation);
urllib keeps every header it was given on any redirect, to any host. So every client that sends
the key is built here: the openai SDK's httpx client refuses any request to another origin (an
event hook sees every hop of a redirect chain), and fetch_json's urllib opener refuses a
redirect that leaves the origin. A redirect within the origin (`/v1` -> `/v1/`) is followed.
"""

from __future__ import annotations

import functools
import json
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlsplit

from claw_lsp.foundation.secrets import display_url

_DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossOriginRedirect(Exception):
    """The backend redirected a request carrying the API key to another origin."""

    def __init__(self, origin_url: str, target_url: str) -> None:
        self.target_url = target_url
        super().__init__(
            f"the backend at {display_url(origin_url)} redirected to another origin "
            f"({display_url(origin(target_url))}); claw-lsp does not follow it, so the API key "
            "and the conversation stay with the configured backend. If that server is the "
            "right one, set baseUrl to it."
        )


def origin(url: str) -> str:
    """scheme://host:port of `url` (default ports filled in, host lower-cased)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


def same_origin(url: str, other: str) -> bool:
    return origin(url) == origin(other)


def find_redirect_refusal(exc: BaseException | None) -> CrossOriginRedirect | None:
    """The refusal behind `exc` (the SDK may wrap it in an APIConnectionError)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, CrossOriginRedirect):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def guarded_http_client(base_url: str, **kwargs: Any) -> Any:
    """An httpx client with the openai SDK's defaults (its DefaultAsyncHttpxClient: 600 s
    timeout, 5 s connect, its connection limits, redirects followed), for the SDK
    (AsyncOpenAI(http_client=...)) and for chat requests sent directly (openai_compat), that
    sends nothing to any origin but base_url's. Built from httpx itself, so that sending a
    chat request does not import the SDK (issue 22)."""
    import httpx2

    async def only_the_origin(request: Any) -> None:
        url = str(request.url)
        if not same_origin(url, base_url):
            raise CrossOriginRedirect(base_url, url)

    kwargs.setdefault("timeout", httpx2.Timeout(timeout=600, connect=5.0))
    kwargs.setdefault("limits", httpx2.Limits(max_connections=1000, max_keepalive_connections=100))
    kwargs.setdefault("follow_redirects", True)
    kwargs.setdefault("verify", _trust_store())
    return httpx2.AsyncClient(event_hooks={"request": [only_the_origin]}, **kwargs)


@functools.cache
def _trust_store() -> Any:
    """httpx's default TLS context (the system trust store, SSL_CERT_FILE/DIR honoured), built
    once per process: loading the CA bundle costs tens of ms per client, and the warm-up's
    client builds it in the background, before the first chat request (issue 22). A context
    that only verifies is safe to share between clients."""
    import httpx2

    return httpx2.create_ssl_context()


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        target = urljoin(req.full_url, newurl)
        if not same_origin(req.full_url, target):
            raise CrossOriginRedirect(req.full_url, target)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_json(url: str, api_key: str | None, timeout: float, max_bytes: int) -> Any:
    """GET `url` as JSON, with the key, following redirects only within its origin."""
    request = urllib.request.Request(url)
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    opener = urllib.request.build_opener(_SameOriginRedirects)
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read(max_bytes))
