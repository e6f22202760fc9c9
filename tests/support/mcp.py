"""Helpers for the MCP tests: the fixture server's config entries and what it recorded."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def stdio_entry(record: Path, *extra: str, **fields: Any) -> dict[str, Any]:
    """An `mcpServers` entry that runs the fixture over stdio (as a user would configure it)."""
    return {
        "command": sys.executable,
        "args": ["-m", "tests.support.mcp_fixture", "--record", str(record), *extra],
        "cwd": str(REPO),
        **fields,
    }


@contextmanager
def http_fixture(record: Path, *extra: str) -> Iterator[str]:
    """The fixture over streamable HTTP on loopback; yields its URL."""
    port_file = record.with_suffix(".port")
    command = [sys.executable, "-m", "tests.support.mcp_fixture", "--record", str(record)]
    process = subprocess.Popen(
        [*command, "--http", "--port-file", str(port_file), *extra],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the HTTP fixture did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}/mcp"
    finally:
        process.kill()
        process.wait(10)


def recorded(record: Path, event: str | None = "call") -> list[dict[str, Any]]:
    """What the fixture wrote (its tool calls by default)."""
    if not record.exists():
        return []
    lines = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    return [line for line in lines if event is None or line["event"] == event]


def calls_of(record: Path, tool: str) -> list[dict[str, Any]]:
    return [line for line in recorded(record) if line.get("tool") == tool]


def tool_names(request: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools") or []]


async def until(predicate: Any, timeout: float = 30.0) -> bool:
    """Polls without blocking the event loop (the LSP client runs on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())
