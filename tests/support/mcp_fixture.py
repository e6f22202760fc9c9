"""A real MCP server for the tests, built with the mcp SDK's own server API (MCPServer, mcp 2.x).

It records every tool call it runs (one JSON line per event in `--record`), so a test can
prove what reached the server and what did not. Run it over stdio (the default) or streamable
HTTP on loopback:

  python -m tests.support.mcp_fixture --record calls.jsonl
  python -m tests.support.mcp_fixture --record calls.jsonl --http --port-file port.txt
  python -m tests.support.mcp_fixture --record calls.jsonl --tools 40   # a big server
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ImageContent, ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def build(record: Path, big: int) -> MCPServer:
    server = MCPServer("fixture", instructions="claw test fixture")

    def log(event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "pid": os.getpid(), "t": time.time(), **fields})
        with record.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    @server.tool(annotations=READ_ONLY)
    def echo(text: str) -> str:
        """Echo the text back (read-only)."""
        log("call", tool="echo", arguments={"text": text})
        return f"echo: {text}"

    @server.tool()
    def write_note(text: str) -> str:
        """Write a note (changes the fixture's state)."""
        log("call", tool="write_note", arguments={"text": text})
        return f"noted: {text}"

    @server.tool(annotations=READ_ONLY)
    def add(a: int, b: int) -> int:
        """Add two integers."""
        log("call", tool="add", arguments={"a": a, "b": b})
        return a + b

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer (for cancellation and timeouts)."""
        log("call", tool="slow", arguments={"seconds": seconds})
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            log("cancelled", tool="slow")
            raise
        log("done", tool="slow")
        return "slept"

    @server.tool()
    def crash() -> str:
        """Exit the server process in the middle of the call."""
        log("call", tool="crash")
        os._exit(3)

    @server.tool()
    def fail() -> str:
        """Always fails (an isError result)."""
        log("call", tool="fail")
        raise RuntimeError("the fixture failed on purpose")

    @server.tool(structured_output=False)
    def picture() -> list[Any]:
        """Returns an image and a caption."""
        log("call", tool="picture")
        encoded = base64.b64encode(PNG_1X1).decode()
        return [ImageContent(type="image", data=encoded, mime_type="image/png"), "a red dot"]

    @server.tool()
    def show_env(variable: str) -> str:
        """The value of one of the server's environment variables."""
        log("call", tool="show_env", arguments={"variable": variable})
        return os.environ.get(variable, "unset")

    @server.tool()
    async def grow(ctx: Context) -> str:
        """Add a tool and tell the client its tool list changed."""
        log("call", tool="grow")
        server.add_tool(extra_tool, name="extra_tool", description="Appeared after grow.")
        for notify in (ctx.notify_tools_changed, ctx.session.send_tool_list_changed):
            try:
                await notify()  # 2026-07-28 listen streams; then the handshake era's notification
            except Exception as exc:
                log("notify-failed", error=type(exc).__name__)
        return "grown"

    def extra_tool() -> str:
        log("call", tool="extra_tool")
        return "extra"

    @server.resource("note://readme", description="The fixture's readme")
    def readme() -> str:
        return "README TEXT FROM MCP"

    @server.prompt()
    def review(topic: str, lang: str = "en") -> str:
        """Ask for a review of a topic."""
        return f"Please review {topic} in {lang}."

    for n in range(big):
        server.add_tool(
            _numbered(n, log),
            name=f"tool_{n:03d}",
            description=f"Numbered tool {n:03d}: looks up record {n} of the fixture's catalogue "
            "of example entries and returns its label.",
        )
    return server


def _numbered(n: int, log: Any) -> Any:
    def tool(record_id: str, verbose: bool = False, limit: int = 10) -> str:
        log("call", tool=f"tool_{n:03d}", arguments={"record_id": record_id})
        return f"label {n} for {record_id}"

    return tool


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port-file")
    parser.add_argument("--tools", type=int, default=0)
    args = parser.parse_args()
    record = Path(args.record)
    server = build(record, args.tools)
    with record.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"event": "start", "pid": os.getpid(), "t": time.time()}) + "\n")
    if not args.http:
        server.run()
        return
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn serves
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    if args.port_file:
        Path(args.port_file).write_text(str(sock.getsockname()[1]))
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
