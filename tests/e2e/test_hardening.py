"""Protocol abuse with raw bytes against the real server process (SECURITY.md group LP)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.lsp import server_env
from tests.support.raw import RawServer
from tests.support.scripted_model import ScriptedModel


@pytest.fixture
def raw(model: ScriptedModel, state_dir: Path):
    server = RawServer(server_env(model.base_url, state_dir))
    yield server
    server.close()


# Unique per test process: parallel workers and other runs on the machine sleep too.
SLEEP = f"sleep 31.{os.getpid()}"


def test_requests_before_initialize_get_32002_and_start_no_work(
    raw: RawServer, model: ScriptedModel, workspace: Path
) -> None:
    raw.request(
        1, "workspace/executeCommand", {"command": "claw.ask", "arguments": [{"prompt": "hi"}]}
    )
    assert raw.response(1)["error"]["code"] == -32002
    raw.initialize(workspace.as_uri())
    raw.request(2, "initialize", {"capabilities": {}})
    assert raw.response(2)["error"]["code"] == -32600
    assert not model.chat_requests()


def test_requests_after_shutdown_get_32600_and_exit_code_is_zero(
    raw: RawServer, model: ScriptedModel, workspace: Path
) -> None:
    raw.initialize(workspace.as_uri())
    raw.request(1, "shutdown")
    assert raw.response(1)["result"] is None
    raw.request(
        2, "workspace/executeCommand", {"command": "claw.ask", "arguments": [{"prompt": "hi"}]}
    )
    assert raw.response(2)["error"]["code"] == -32600
    raw.notify("exit")
    assert raw.wait() == 0
    assert not model.chat_requests()


def test_exit_without_shutdown_exits_1(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    raw.notify("exit")
    assert raw.wait() == 1


def test_truncated_json_then_valid_request(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    body = b'{"jsonrpc":"2.0","id":1,"method":"shutdown"'
    raw.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    parse_error = raw.response(None)
    assert parse_error["error"]["code"] == -32700
    raw.request(2, "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]})
    assert raw.response(2)["result"] == []


def test_huge_content_length_does_not_kill_the_server(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    raw.send_bytes(b"Content-Length: 99999999999999\r\n\r\n{}")
    raw.request(3, "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]})
    assert raw.response(3)["result"] == []
    assert raw.proc.poll() is None


def test_lowercase_content_length_header_is_accepted(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "workspace/executeCommand",
            "params": {"command": "claw.sessions", "arguments": [{}]},
        }
    ).encode()
    raw.send_bytes(b"content-length: %d\r\n\r\n" % len(body) + body)
    assert raw.response(4)["result"] == []


@pytest.mark.parametrize(
    "params",
    [
        "garbage",
        [1, 2],
        {"command": "claw.ask"},
        {"command": "claw.ask", "arguments": [{}]},
        {"command": "claw.ask", "arguments": [{"prompt": 7}]},
    ],
)
def test_bad_params_get_32602_with_the_id(raw: RawServer, workspace: Path, params) -> None:
    raw.initialize(workspace.as_uri())
    raw.request(7, "workspace/executeCommand", params)
    response = raw.response(7)
    assert response["id"] == 7
    assert response["error"]["code"] in (-32602, -32600)


def test_unknown_methods(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    raw.request(8, "claw/nonexistent", {})
    assert raw.response(8)["error"]["code"] == -32601
    raw.request(9, "$/custom", {})
    assert raw.response(9)["error"]["code"] == -32601
    raw.notify("$/unknownNotification", {})
    raw.request(10, "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]})
    assert raw.response(10)["result"] == []


def test_internal_errors_are_scrubbed(
    model: ScriptedModel, state_dir: Path, workspace: Path
) -> None:
    # A backend error body that echoes the key must not reach the client.
    model.add(
        {"status": 500, "body": "Authorization: Bearer sk-test-SECRET-0123456789 failed"},
        {"status": 500, "body": "sk-test-SECRET-0123456789"},
        {"status": 500, "body": "sk-test-SECRET-0123456789"},
        {"status": 500, "body": "sk-test-SECRET-0123456789"},
    )
    server = RawServer(server_env(model.base_url, state_dir))
    try:
        server.initialize(workspace.as_uri())
        server.request(
            11, "workspace/executeCommand", {"command": "claw.ask", "arguments": [{"prompt": "hi"}]}
        )
        response = server.response(11, timeout=60)
    finally:
        server.close()
    everything = json.dumps(server.seen)
    assert response["result"]["stopReason"] == "error"
    assert "sk-test-SECRET" not in everything
    assert "traceback" not in everything.lower()


def test_parent_death_makes_the_server_exit(
    model: ScriptedModel, state_dir: Path, workspace: Path
) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    server = RawServer(server_env(model.base_url, state_dir))
    try:
        server.request(
            "init",
            "initialize",
            {
                "processId": parent.pid,
                "capabilities": {},
                "workspaceFolders": [{"uri": workspace.as_uri(), "name": "ws"}],
            },
        )
        server.response("init")
        parent.kill()
        parent.wait()
        started = time.monotonic()
        code = server.wait(timeout=10)
        assert time.monotonic() - started < 6
        assert code == 1
    finally:
        server.close()


def test_stdin_eof_mid_turn_kills_the_shell_and_exits(
    model: ScriptedModel, state_dir: Path, workspace: Path
) -> None:
    model.add(
        {
            "tool_calls": [
                {
                    "name": "shell",
                    "arguments": {"command": f"{SLEEP}; echo never", "timeout_s": 100},
                }
            ]
        }
    )
    server = RawServer(server_env(model.base_url, state_dir, CLAW_TIER="unsafe"))
    try:
        server.initialize(workspace.as_uri())
        server.request(
            12,
            "workspace/executeCommand",
            {"command": "claw.ask", "arguments": [{"prompt": "run"}]},
        )
        deadline = time.monotonic() + 10
        while not _pids_running(SLEEP):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server.proc.stdin
        server.proc.stdin.close()
        server.wait(timeout=10)
        time.sleep(0.3)
        assert not _pids_running(SLEEP)
    finally:
        server.close()
        for pid in _pids_running(SLEEP):
            os.kill(int(pid), signal.SIGKILL)


def _pids_running(needle: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if needle.encode() in fh.read():
                        found.append(pid)
            except OSError:
                continue
    return found


def test_did_change_flood_then_shutdown_still_answers(raw: RawServer, workspace: Path) -> None:
    raw.initialize(workspace.as_uri())
    uri = (workspace / "app.py").as_uri()
    raw.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = 0\n"}},
    )
    frames = []
    for version in range(2, 10_002):
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didChange",
                "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": f"x = {version}\n"}],
                },
            }
        ).encode()
        frames.append(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    raw.send_bytes(b"".join(frames))
    raw.request(20, "workspace/executeCommand", {"command": "claw.sessions", "arguments": [{}]})
    assert raw.response(20, timeout=60)["result"] == []
    raw.request(21, "shutdown")
    assert raw.response(21, timeout=30)["result"] is None
    raw.notify("exit")
    assert raw.wait() == 0


def test_client_mistakes_are_one_log_line_without_traceback_or_params(
    raw: RawServer, workspace: Path
) -> None:
    raw.initialize(workspace.as_uri())
    mistakes = [
        ("workspace/executeCommand", {"command": "claw.ask", "arguments": [{"folder": "x"}]}),
        ("workspace/executeCommand", {"command": "claw.nope", "arguments": [{}]}),
        ("workspace/executeCommand", {"command": "claw.setTier", "arguments": [{"tier": "god"}]}),
        ("claw/nonexistent", {"secretish": "PARAMS-MUST-NOT-BE-LOGGED"}),
    ]
    for number, (method, params) in enumerate(mistakes, start=1):
        raw.request(number, method, params)
        assert raw.response(number)["error"]["code"] in (-32602, -32601)
    raw.request(99, "shutdown")
    raw.response(99)
    raw.notify("exit")
    assert raw.wait() == 0
    log = raw.full_stderr()
    assert "Traceback" not in log
    assert "PARAMS-MUST-NOT-BE-LOGGED" not in log
    failed = [line for line in log.splitlines() if "request failed" in line]
    assert len(failed) >= 3, log
    assert any("unknown command 'claw.nope'" in line for line in failed), log
    assert any("prompt" in line and "-32602" in line for line in failed), log
