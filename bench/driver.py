"""A lean JSON-RPC client over a language server's stdio, for timing.

pytest-lsp adds converters and a second event loop layer we do not want inside measurements;
this speaks the wire format directly and answers the server's own requests the way an editor
without UI would (configuration: empty, progress creation: ok, approvals: no answer)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# What VS Code announces for the parts claw-lsp looks at.
EDITOR_CAPABILITIES: dict[str, Any] = {
    "workspace": {
        "applyEdit": True,
        "configuration": True,
        "workspaceFolders": True,
        "workspaceEdit": {
            "documentChanges": True,
            "resourceOperations": ["create", "rename", "delete"],
        },
    },
    "window": {"workDoneProgress": True},
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}}
    },
}


class RpcError(Exception):
    pass


def _default_answer(method: str, params: Any) -> Any:
    if method == "workspace/configuration":
        return [{} for _ in (params or {}).get("items", [])]
    if method == "workspace/applyEdit":
        return {"applied": False, "failureReason": "the benchmark client applies nothing"}
    if method == "claw/saveDocuments":
        return []
    return None  # progress create, registerCapability, showMessageRequest (= denied)


class LspClient:
    """One server process. `started_at` is taken just before the spawn, for cold-start timing."""

    def __init__(self, process: asyncio.subprocess.Process, started_at: float) -> None:
        self.process = process
        self.started_at = started_at
        self.notifications: Counter[str] = Counter()
        self.on_notification: Callable[[str, Any], None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def spawn(
        cls, command: Sequence[str], *, env: dict[str, str], cwd: Path, stderr_path: Path
    ) -> LspClient:
        stderr_file = stderr_path.open("ab")
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr_file,
            env=env,
            cwd=cwd,
            limit=1 << 26,
        )
        stderr_file.close()
        return cls(process, started)

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- wire ------------------------------------------------------------------------------
    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **payload}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def _read_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                length = None
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length is None:
                    continue
                self._dispatch(json.loads(await stdout.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(RpcError("server closed the connection"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(RpcError(json.dumps(message["error"])))
            else:
                future.set_result(message.get("result"))
            return
        method = message["method"]
        if "id" in message:
            result = _default_answer(method, message.get("params"))
            self._send({"id": message["id"], "result": result})
            return
        self.notifications[method] += 1
        if self.on_notification is not None:
            self.on_notification(method, message.get("params"))

    # -- API -------------------------------------------------------------------------------
    async def request(self, method: str, params: Any = None) -> Any:
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._send({"id": request_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"method": method, "params": params})

    async def command(self, name: str, argument: dict[str, Any], token: str | None = None) -> Any:
        params: dict[str, Any] = {"command": name, "arguments": [argument]}
        if token is not None:
            params["workDoneToken"] = token
        return await self.request("workspace/executeCommand", params)

    async def initialize(
        self, folders: Sequence[Path], init_options: dict[str, Any] | None = None
    ) -> float:
        """initialize + initialized; returns seconds from spawn to the initialize response."""
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "claw-bench", "version": "1"},
                "capabilities": EDITOR_CAPABILITIES,
                "workspaceFolders": [{"uri": f.as_uri(), "name": f.name} for f in folders],
                "initializationOptions": init_options or {},
            },
        )
        elapsed = time.perf_counter() - self.started_at
        self.notify("initialized", {})
        return elapsed

    def open(self, path: Path, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": path.read_text(),
                }
            },
        )
        return uri

    def memory_kb(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak so far) of the server process, in kB."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
        return out

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown"), 10)
            self.notify("exit")
            assert self.process.stdin is not None
            self.process.stdin.close()
            await asyncio.wait_for(self.process.wait(), 10)
        except (RpcError, TimeoutError, ConnectionError, BrokenPipeError):
            pass
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            self._reader.cancel()
