"""Rule 8 on the wire: a `$/cancelRequest` refers only to a request the client sent, a response
only to a request the server sent, and `--tcp` serves exactly one client, which must show the
per-launch token. Raw JSON-RPC against the real server process."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.lsp import server_env
from tests.support.raw import RawServer
from tests.support.scripted_model import ScriptedModel

EDITOR_CAPABILITIES = {
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create", "delete"]},
    },
}


@pytest.fixture
def raw(model: ScriptedModel, state_dir: Path) -> Iterator[RawServer]:
    server = RawServer(server_env(model.base_url, state_dir))
    yield server
    server.close()


def _next_request(raw: RawServer, method: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = raw.frames.get(timeout=max(0.1, deadline - time.monotonic()))
        raw.seen.append(frame)
        if frame.get("method") == method and "id" in frame:
            return frame
    raise AssertionError(f"no {method} request; seen: {raw.seen}")


def _start_write_turn(raw: RawServer, workspace: Path, model: ScriptedModel) -> None:
    model.add(
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "n.txt", "content": "n"}}]},
        {"text": "wrote it"},
    )
    raw.initialize(
        workspace.as_uri(),
        capabilities=EDITOR_CAPABILITIES,
        initializationOptions={"tier": "write"},
    )
    raw.request(
        "ask-1",
        "workspace/executeCommand",
        {"command": "claw.ask", "arguments": [{"prompt": "write n"}]},
    )


def _applied(raw: RawServer, msg_id: Any) -> None:
    raw.send({"jsonrpc": "2.0", "id": msg_id, "result": {"applied": True}})


@pytest.mark.parametrize(
    "interference",
    ["cancel the edit's id", "answer the ask itself", "reuse the edit's id for a request"],
)
def test_the_client_cannot_cancel_or_answer_what_is_not_its_own(
    interference: str, raw: RawServer, workspace: Path, model: ScriptedModel
) -> None:
    _start_write_turn(raw, workspace, model)
    edit = _next_request(raw, "workspace/applyEdit")
    if interference == "cancel the edit's id":
        raw.notify("$/cancelRequest", {"id": edit["id"]})
    elif interference == "answer the ask itself":
        # A "response" to the client's own pending request must not become its result.
        raw.send({"jsonrpc": "2.0", "id": "ask-1", "result": {"stopReason": "forged"}})
    else:
        raw.request(
            edit["id"], "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]}
        )
        refused = raw.response(edit["id"])
        assert refused["error"]["code"] == -32600 and "in use" in refused["error"]["message"]
    _applied(raw, edit["id"])
    result = raw.response("ask-1", timeout=30)["result"]
    assert result["stopReason"] == "done", result
    assert result["edits"] and result["edits"][0]["applied"] is True


def test_the_client_can_still_cancel_its_own_request(
    raw: RawServer, workspace: Path, model: ScriptedModel
) -> None:
    _start_write_turn(raw, workspace, model)
    edit = _next_request(raw, "workspace/applyEdit")
    raw.notify("$/cancelRequest", {"id": "ask-1"})
    answer = raw.response("ask-1", timeout=30)
    stop = (answer.get("result") or {}).get("stopReason")
    assert stop == "cancelled" or answer.get("error", {}).get("code") == -32800, answer
    _applied(raw, edit["id"])  # a late answer to a request the server gave up is ignored
    raw.request(9, "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]})
    assert "result" in raw.response(9)


# -- --tcp -------------------------------------------------------------------------------------
TOKEN = "tcp-launch-token-0123456789abcdef"


class TcpClient:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.reader = self.sock.makefile("rb")

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def receive(self) -> dict[str, Any] | None:
        length = None
        while True:
            line = self.reader.readline()
            if not line:
                return None
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif not line.strip() and length is not None:
                return json.loads(self.reader.read(length))

    def response(self, msg_id: Any) -> dict[str, Any]:
        while True:
            frame = self.receive()
            assert frame is not None, "connection closed"
            if frame.get("id") == msg_id and "method" not in frame:
                return frame

    def initialize(self, workspace: Path, token: str | None, msg_id: Any = 1) -> dict[str, Any]:
        options = {"clawToken": token} if token is not None else None
        self.send(
            {
                "jsonrpc": "2.0",
                "id": msg_id,
                "method": "initialize",
                "params": {
                    "processId": os.getpid(),
                    "capabilities": {},
                    "workspaceFolders": [{"uri": workspace.as_uri(), "name": "ws"}],
                    "initializationOptions": options,
                },
            }
        )
        return self.response(msg_id)

    def close(self) -> None:
        self.sock.close()


class TcpServer:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claw_lsp", "--tcp", "127.0.0.1:0", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stderr is not None
        first = self.proc.stderr.readline()
        match = re.search(
            r"listening on 127\.0\.0\.1:(\d+) for one client(?:; launch token: (\S+))?", first
        )
        assert match, first
        self.port = int(match.group(1))
        self.printed_token = match.group(2)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def tcp_env(model: ScriptedModel, state_dir: Path) -> dict[str, str]:
    return server_env(model.base_url, state_dir, CLAW_LSP_TCP_TOKEN=TOKEN)


@pytest.mark.parametrize(
    "intruder",
    ["no token", "wrong token", "token of another length", "not initialize first", "garbage"],
)
def test_tcp_serves_only_the_client_with_the_token_and_refuses_later_ones(
    intruder: str, tcp_env: dict[str, str], workspace: Path
) -> None:
    server = TcpServer(tcp_env)
    try:
        stranger = TcpClient(server.port)
        if intruder == "garbage":
            stranger.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            refused = stranger.receive()
        elif intruder == "not initialize first":
            stranger.send({"jsonrpc": "2.0", "id": 1, "method": "shutdown", "params": None})
            refused = stranger.receive()
        else:
            token = {"no token": None, "wrong token": TOKEN[::-1], "token of another length": "x"}
            refused = stranger.initialize(workspace, token[intruder])
        assert refused is None or refused["error"]["code"] == -32600
        assert stranger.receive() is None  # and it was hung up on
        owner = TcpClient(server.port)
        assert "capabilities" in owner.initialize(workspace, TOKEN)["result"]
        with pytest.raises(OSError):  # the listener is gone: later connections are refused
            TcpClient(server.port).initialize(workspace, TOKEN)
        owner.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        owner.send(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "workspace/executeCommand",
                "params": {"command": "claw.sessions", "arguments": [{}]},
            }
        )
        assert owner.response(2)["result"] == []  # the owner's answers still reach the owner
        owner.send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        owner.response(3)
        owner.send({"jsonrpc": "2.0", "method": "exit"})
        assert server.proc.wait(10) == 0
    finally:
        server.close()


def test_tcp_token_from_the_command_line_or_generated_and_never_logged(
    model: ScriptedModel, state_dir: Path, workspace: Path, tmp_path: Path
) -> None:
    env = server_env(model.base_url, state_dir)
    log_file = tmp_path / "tcp.log"
    server = TcpServer(env, "--tcp-token", TOKEN, "--debug", "--log-file", str(log_file))
    try:
        assert server.printed_token is None  # the user chose it: not echoed
        assert "result" in TcpClient(server.port).initialize(workspace, TOKEN)
    finally:
        server.close()
    assert log_file.exists() and TOKEN not in log_file.read_text()
    generated = TcpServer(env)
    try:
        assert generated.printed_token and len(generated.printed_token) >= 16
        assert "error" in TcpClient(generated.port).initialize(workspace, TOKEN)
        assert "result" in TcpClient(generated.port).initialize(workspace, generated.printed_token)
    finally:
        generated.close()


@pytest.mark.parametrize(
    "args",
    [
        ["--tcp", "0.0.0.0:0"],
        ["--tcp", "192.168.1.10:4000"],
        ["--tcp", "127.0.0.1:0", "--tcp-token", "short"],
    ],
)
def test_tcp_refuses_to_listen_beyond_loopback_or_with_a_weak_token(
    args: list[str], model: ScriptedModel, state_dir: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", *args],
        env=server_env(model.base_url, state_dir),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and "claw-lsp:" in done.stderr
