"""The floor (issue 22): the least a client can do to run the same agent session.

A keep-alive `http.client` connection, the same request body claw sends (its system message,
tools and options, captured from claw's first request in the same benchmark run), the same
history growth (assistant message with the call, tool message with the file's text), SSE read
line by line, `read_file` done by reading the file. No validation, no persistence, no
redaction: what is left is Python, JSON and one socket, which is what claw is compared with.

    python -m bench.floor_client TEMPLATE.json FOLDER PROMPT [PROMPT ...]

TEMPLATE.json: {"url": ..., "body": {<claw's first request, messages cut to the system one>}}.
One turn per prompt, in one session, on one connection.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def _read_stream(response: http.client.HTTPResponse) -> dict[str, Any]:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for raw in response:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            continue  # read on to the end of the body: the connection goes back to the pool
        chunk = json.loads(data)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
            for part in delta.get("tool_calls") or []:
                call = calls.setdefault(
                    part["index"],
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                call["id"] = part.get("id") or call["id"]
                function = part.get("function") or {}
                call["function"]["name"] += function.get("name") or ""
                call["function"]["arguments"] += function.get("arguments") or ""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text)}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


def _run_tool(folder: Path, call: dict[str, Any]) -> str:
    try:
        path = json.loads(call["function"]["arguments"])["path"]
        lines = (folder / path).read_text().splitlines()
    except (OSError, ValueError, KeyError) as exc:
        return f"Error: {exc}"
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(lines, 1))


def main(argv: list[str]) -> int:
    template = json.loads(Path(argv[0]).read_text())
    folder = Path(argv[1])
    url = urlsplit(template["url"])
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    connection.connect()
    assert connection.sock is not None
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as httpx does
    path = url.path.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer none"}
    body = dict(template["body"])
    messages: list[dict[str, Any]] = list(body["messages"])
    for prompt in argv[2:]:
        messages.append({"role": "user", "content": prompt})
        while True:
            body["messages"] = messages
            # Serialised as claw serialises it (compact, UTF-8), so the bytes compare.
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            connection.request("POST", path, data, headers)
            message = _read_stream(connection.getresponse())
            messages.append(message)
            calls = message.get("tool_calls") or []
            if not calls:
                break
            for call in calls:
                content = _run_tool(folder, call)
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
