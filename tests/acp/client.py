"""The ACP client side for the tests: the official SDK's ClientSideConnection to a real
`claw-lsp acp` subprocess, with a client that records every update and answers permission
requests and file writes as scripted. Every frame in both directions is kept, so a test can
check that no secret ever crossed the wire."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, spawn_agent_process
from acp.connection import StreamEvent
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    ReadTextFileResponse,
    RequestPermissionResponse,
    WriteTextFileResponse,
)

SECRET = "sk-test-SECRET-0123456789"


@dataclass
class RecordingClient:
    permission_answers: list[str] = field(default_factory=list)  # option ids, or "cancel"
    updates: list[tuple[str, Any]] = field(default_factory=list)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    write_to_disk: bool = False
    buffers: dict[str, str] = field(default_factory=dict)  # unsaved editor text, by path
    reads: list[str] = field(default_factory=list)

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any
    ) -> RequestPermissionResponse:
        self.permissions.append(
            {
                "session": session_id,
                "tool_call": tool_call,
                "options": [o.option_id for o in options],
            }
        )
        answer = self.permission_answers.pop(0) if self.permission_answers else "cancel"
        if answer == "cancel":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=answer)
        )

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((session_id, update))

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes.append({"session": session_id, "path": path, "content": content})
        if self.write_to_disk:
            Path(path).write_text(content)
        return WriteTextFileResponse()

    async def read_text_file(
        self,
        session_id: str,
        path: str,
        line: int | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        return ReadTextFileResponse(content=Path(path).read_text())

    def kinds(self) -> list[str]:
        return [u.session_update for _, u in self.updates]

    def of(self, kind: str) -> list[Any]:
        return [u for _, u in self.updates if u.session_update == kind]

    def message_text(self) -> str:
        return "".join(u.content.text for u in self.of("agent_message_chunk"))


@dataclass
class Agent:
    conn: Any
    process: Any
    client: RecordingClient
    frames: list[dict[str, Any]]
    stderr_path: Path
    init: dict[str, Any]

    def wire(self) -> str:
        return json.dumps(self.frames)


@asynccontextmanager
async def acp_agent(
    env: dict[str, str], tmp: Path, *, fs: bool, client: RecordingClient | None = None
) -> AsyncIterator[Agent]:
    client = client or RecordingClient()
    frames: list[dict[str, Any]] = []

    def observe(event: StreamEvent) -> None:
        frames.append({"direction": event.direction.value, "message": event.message})

    stderr_path = tmp / f"acp-stderr-{len(list(tmp.glob('acp-stderr-*')))}.log"
    with stderr_path.open("wb") as stderr:
        async with spawn_agent_process(
            client,
            sys.executable,
            "-m",
            "claw_lsp",
            "acp",
            env=env,
            transport_kwargs={"stderr": stderr},
            observers=[observe],
        ) as (conn, process):
            init = await asyncio.wait_for(
                conn.initialize(
                    protocol_version=PROTOCOL_VERSION,
                    client_capabilities=ClientCapabilities(
                        fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs)
                    ),
                    client_info=Implementation(name="pytest", version="1"),
                ),
                30,
            )
            agent = Agent(conn, process, client, frames, stderr_path, init.model_dump())
            yield agent
    # Nothing that crossed the wire, and nothing the agent logged, names the API key.
    assert SECRET not in agent.wire()
    assert SECRET not in stderr_path.read_text(errors="replace")
