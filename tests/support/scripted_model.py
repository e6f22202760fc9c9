"""A scripted OpenAI-compatible chat server on loopback, for tests and benchmarks.

It plays a list of replies, one per `POST /v1/chat/completions`, and records every request
(body and headers) so tests can assert on what claw_lsp really sent. It is a real HTTP server:
claw_lsp talks to it through the real `openai` client.

A reply is a dict; all keys optional:
  text            assistant text (streamed in `chunks` pieces, default 3)
  tool_calls      [{"name", "arguments": dict | raw str, "id"?}]; arguments are streamed in pieces
  finish_reason   override ("stop" / "tool_calls" / "length")
  usage           {"prompt_tokens", "completion_tokens", "prompt_tokens_details": {...}}
  delay           seconds to wait before the headers
  chunk_delay     seconds between streamed chunks
  drop_after      close the connection (no terminating chunk) after this many chunks
  status, body, headers   a plain HTTP reply instead of a completion (errors, HTML, 429 ...)
  raw_sse         list of raw SSE `data:` payload strings sent verbatim (stream oddities)
  stall           send headers and then nothing for this many seconds
  trailing_bytes  after [DONE], this many bytes of SSE comments before the body ends

Every request (any method and path) is also recorded in `seen` as {method, path, headers}, and
`garbled` counts connections whose first bytes were not HTTP (a TLS hello sent to it).
`models_replies` queues replies for GET .../models (same keys as status replies; default: the
model list), so a test can make the listing redirect.

Connections (issue 22): `keep_alive=True` streams with chunked transfer encoding and keeps the
connection open, as vLLM, llama.cpp and Ollama do (the default closes it after every stream).
`connections` counts the TCP connections accepted, `request_connections[i]` is the connection
chat request i came on, `request_bytes[i]` its body size; `replied()` is called once a chat
reply is completely flushed (benchmarks time the client from there to its next request).

Run as a process (for the Neovim and VS Code suites):
  python -m tests.support.scripted_model --script replies.json --port-file PATH
Control endpoints: POST /_script (JSON list appended), GET /_requests, POST /_reset.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EXHAUSTED_TEXT = "(scripted model: no more replies)"


class ScriptedModel:
    def __init__(
        self,
        replies: list[dict[str, Any]] | None = None,
        model: str = "scripted",
        *,
        keep_alive: bool = False,
    ) -> None:
        self.model = model
        self.keep_alive = keep_alive
        self.connections = 0
        self.request_connections: list[int] = []
        self.request_bytes: list[int] = []
        self.replies: list[dict[str, Any]] = list(replies or [])
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.models_payload: dict[str, Any] | None = None
        # Extra JSON endpoints (path -> payload), e.g. llama.cpp's /props or Ollama's /api/show.
        self.routes: dict[str, Any] = {}
        self.models_replies: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []
        self.garbled = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> ScriptedModel:
        handler = _make_handler(self)
        self._server = _QuietServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        assert self._server is not None
        return str(self._server.server_address[0])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- script ------------------------------------------------------------------------------
    def add(self, *replies: dict[str, Any]) -> None:
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self) -> dict[str, Any]:
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
        return {"text": EXHAUSTED_TEXT}

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)

    def replied(self) -> None:
        """Called when a chat reply has been flushed completely (a hook for benchmarks)."""

    def chat_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if "messages" in r]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a keep-alive connection with data unread resets it: not an error.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _chunk_text(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    pieces = max(1, min(pieces, len(text)))
    size = -(-len(text) // pieces)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _completion_chunks(reply: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """The SSE payloads for one streamed completion, in order."""
    created = int(time.time())
    base = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    out = [chunk({"role": "assistant", "content": ""})]
    for piece in _chunk_text(reply.get("text", ""), int(reply.get("chunks", 3))):
        out.append(chunk({"content": piece}))
    calls = reply.get("tool_calls") or []
    for index, call in enumerate(calls):
        args = call.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        call_id = call.get("id", f"call_{index}_{call['name']}")
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call["name"], "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        for piece in _chunk_text(raw, 2):
            out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    finish = reply.get("finish_reason") or ("tool_calls" if calls else "stop")
    out.append(chunk({}, finish))
    usage = reply.get("usage")
    if usage is not None:
        out.append({**base, "choices": [], "usage": usage})
    return out


def _plain_completion(reply: dict[str, Any], model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("text", "")}
    calls = reply.get("tool_calls") or []
    if calls:
        message["tool_calls"] = [
            {
                "id": c.get("id", f"call_{i}_{c['name']}"),
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"]
                    if isinstance(c.get("arguments"), str)
                    else json.dumps(c.get("arguments", {})),
                },
            }
            for i, c in enumerate(calls)
        ]
    finish = reply.get("finish_reason") or ("tool_calls" if calls else "stop")
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": reply.get("usage")
        or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _make_handler(state: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            # As uvicorn and llama.cpp do: small SSE events go out at once (no Nagle delay).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with state._lock:
                state.connections += 1
                self.connection_number = state.connections

        def parse_request(self) -> bool:
            ok = super().parse_request()
            with state._lock:
                if not ok:
                    state.garbled += 1
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    state.seen.append(
                        {"method": self.command, "path": self.path, "headers": headers}
                    )
            return ok

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models") and state.models_replies:
                self._reply(state.models_replies.pop(0), False)
            elif self.path.rstrip("/").endswith("/models"):
                payload = state.models_payload or {
                    "object": "list",
                    "data": [{"id": state.model, "object": "model"}],
                }
                self._json(200, payload)
            elif self.path in state.routes:
                self._json(200, state.routes[self.path])
            elif self.path == "/_requests":
                self._json(200, state.requests)
            elif self.path == "/healthz":
                self._json(200, {"ok": True})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "invalid JSON"}})
                return
            if self.path in state.routes:
                self._json(200, state.routes[self.path])
                return
            if self.path == "/_script":
                state.add(*(body if isinstance(body, list) else [body]))
                self._json(200, {"queued": len(state.replies)})
                return
            if self.path == "/_reset":
                with state._lock:
                    state.replies.clear()
                    state.requests.clear()
                    state.headers.clear()
                self._json(200, {"ok": True})
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": "not found"}})
                return
            with state._lock:
                state.request_connections.append(self.connection_number)
                state.request_bytes.append(length)
            state.record(body, {k.lower(): v for k, v in self.headers.items()})
            self._reply(state.next_reply(), bool(body.get("stream")))
            state.replied()

        def _reply(self, reply: dict[str, Any], stream: bool) -> None:
            time.sleep(float(reply.get("delay", 0)))
            if "status" in reply:
                data = reply.get("body", "")
                data_bytes = (data if isinstance(data, str) else json.dumps(data)).encode()
                self.send_response(int(reply["status"]))
                headers = {"Content-Type": "application/json", **reply.get("headers", {})}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data_bytes)))
                self.end_headers()
                self.wfile.write(data_bytes)
                return
            if not stream:
                self._json(200, _plain_completion(reply, state.model))
                return
            chunked = state.keep_alive
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = not chunked
            if "stall" in reply:
                self.wfile.flush()
                time.sleep(float(reply["stall"]))
                self.close_connection = True
                return
            payloads = reply.get("raw_sse")
            chunks = (
                payloads
                if payloads is not None
                else [json.dumps(c) for c in _completion_chunks(reply, state.model)]
            )
            drop_after = reply.get("drop_after")
            delay = float(reply.get("chunk_delay", 0))
            try:
                for n, payload in enumerate(chunks):
                    if drop_after is not None and n >= int(drop_after):
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    self._event(f"data: {payload}\n\n".encode(), chunked)
                    if delay:
                        time.sleep(delay)
                if payloads is None:
                    self._event(b"data: [DONE]\n\n", chunked)
                trailing = int(reply.get("trailing_bytes", 0))
                for _ in range(0, trailing, 8192):
                    self._event(b":" + b"x" * 8190 + b"\n", chunked)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")  # the end of the body: the connection stays
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the client went away (cancel): that is what some tests check

        def _event(self, data: bytes, chunked: bool) -> None:
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)
            self.wfile.flush()

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--script", type=Path, help="JSON file with a list of replies")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, help="write the chosen port here when ready")
    parser.add_argument("--model", default="scripted")
    args = parser.parse_args()
    replies = json.loads(args.script.read_text()) if args.script else []
    server = ScriptedModel(replies, model=args.model).start(args.port)
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(server.port))
        tmp.rename(args.port_file)
    print(f"scripted model on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
