"""A raw JSON-RPC peer over the server's stdio, for protocol-abuse tests (bytes in, frames out)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from typing import Any


class RawServer:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claw_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr = b""
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr
        for line in self.proc.stderr:
            self.stderr += line

    def _read(self) -> None:
        out = self.proc.stdout
        assert out
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n") and length is not None:
                    break
            self.frames.put(json.loads(out.read(length)))

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, msg_id: Any, method: str, params: Any = None) -> None:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": msg_id,
                "method": method,
                **({"params": params} if params is not None else {}),
            }
        )

    def notify(self, method: str, params: Any = None) -> None:
        self.send(
            {
                "jsonrpc": "2.0",
                "method": method,
                **({"params": params} if params is not None else {}),
            }
        )

    def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The response to msg_id; notifications and other frames are kept in .seen."""
        while True:
            frame = self.frames.get(timeout=timeout)
            self.seen.append(frame)
            if "id" in frame and frame.get("id") == msg_id and "method" not in frame:
                return frame

    def initialize(self, folder_uri: str, **params: Any) -> dict[str, Any]:
        self.request(
            "init",
            "initialize",
            {
                "processId": os.getpid(),
                "capabilities": {},
                "workspaceFolders": [{"uri": folder_uri, "name": "ws"}],
                **params,
            },
        )
        result = self.response("init")
        self.notify("initialized", {})
        return result

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout=timeout)

    def full_stderr(self, timeout: float = 10.0) -> str:
        """Everything the process wrote to stderr; call after it exited."""
        self._stderr_reader.join(timeout)
        return self.stderr.decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
