"""A language server claw runs itself: a child process spoken to with pygls' own LSP client.

Started on first use, initialised with the workspace folders, kept in sync with the documents
claw asks about (full-text didOpen/didChange), its publishDiagnostics collected into the
shared store. A server that exits is restarted on the next use, with backoff, at most
MAX_RESTARTS times a session; one that cannot start at all is not retried. Requests are
bounded; nothing a server sends can edit a file (workspace/applyEdit is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.io_ import run_async
from pygls.lsp.client import BaseLanguageClient
from pygls.protocol import default_converter

from claw_lsp import __version__
from claw_lsp.config import LanguageServerConfig
from claw_lsp.lsp_tools.client_side import (
    CLIENT_CAPABILITIES,
    answer_none,
    configuration_section,
)
from claw_lsp.lsp_tools.diagnostics import DiagnosticStore, parse_diagnostics
from claw_lsp.lsp_tools.errors import LanguageServerError
from claw_lsp.lsp_tools.process_env import language_server_env
from claw_lsp.permissions.paths import Root

log = logging.getLogger(__name__)
MAX_RESTARTS = 3
RESTART_BACKOFF_S = 0.5
INITIALIZE_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 2.0
MAX_OPEN_DOCUMENTS = 200
STDERR_LINES = 20


@dataclass
class _Document:
    version: int
    text: str


class _Exited(Exception):
    pass


class ManagedServer:
    def __init__(
        self,
        config: LanguageServerConfig,
        roots: Callable[[], list[Root]],
        store: DiagnosticStore,
        *,
        passthrough: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.name = config.name
        self._roots = roots
        self._store = store
        self._passthrough = passthrough
        self._lock = asyncio.Lock()
        self._client: BaseLanguageClient | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = threading.Event()
        self._pending: set[Any] = set()  # request futures, failed when the process exits
        self._documents: dict[str, _Document] = {}
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._converter = default_converter()
        self.restarts = 0
        self.crashed: str | None = None  # why the last process ended, until restarted
        self.failed: str | None = None  # set when it cannot start at all: never retried
        self.capabilities: types.ServerCapabilities | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None and not self.crashed

    async def ensure_running(self) -> None:
        async with self._lock:
            if self.running:
                return
            if self.failed:
                raise LanguageServerError(self.failed)
            if self.crashed is not None:
                if self.restarts >= MAX_RESTARTS:
                    self.failed = (
                        f"language server {self.name} exited {self.restarts + 1} times "
                        f"({self.crashed}); claw does not restart it again this session"
                    )
                    raise LanguageServerError(self.failed)
                await asyncio.sleep(RESTART_BACKOFF_S * 2**self.restarts)
                self.restarts += 1
                log.warning("restarting language server %s (%d)", self.name, self.restarts)
            await self._start()

    async def _start(self) -> None:
        program = shutil.which(self.config.command[0])
        if program is None:
            self.failed = (
                f"language server {self.name} could not start: {self.config.command[0]!r} was "
                "not found on PATH (check languageServers in the claw settings)"
            )
            raise LanguageServerError(self.failed)
        self.crashed = None
        self._documents.clear()
        self._stderr.clear()
        roots = self._roots()
        cwd = roots[0].real_path if roots else Path.cwd()
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                *self.config.command[1:],
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=language_server_env(os.environ, self._passthrough),
                start_new_session=True,  # its own group: nothing it spawns outlives claw
            )
        except OSError as exc:
            self.failed = f"language server {self.name} could not start: {exc.strerror or exc}"
            raise LanguageServerError(self.failed) from None
        client = BaseLanguageClient(
            "claw-lsp", __version__, converter_factory=lambda: self._converter
        )
        self._register_handlers(client)
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        client.protocol.set_writer(process.stdin)
        self._client, self._process = client, process
        self._stop = threading.Event()
        self._tasks = [
            asyncio.create_task(self._read(client, process.stdout, self._stop)),
            asyncio.create_task(self._drain(process.stderr)),
            asyncio.create_task(self._watch(process, self._stop)),
        ]
        try:
            result = await self._send("initialize", self._initialize_params(), INITIALIZE_TIMEOUT_S)
        except LanguageServerError:
            await self._kill()
            raise
        self.capabilities = result.capabilities if result is not None else None
        client.protocol.notify("initialized", types.InitializedParams())
        if self.config.settings:
            client.protocol.notify(
                "workspace/didChangeConfiguration",
                types.DidChangeConfigurationParams(settings=dict(self.config.settings)),
            )

    def _initialize_params(self) -> types.InitializeParams:
        folders = [types.WorkspaceFolder(uri=r.uri, name=r.name) for r in self._roots()]
        return types.InitializeParams(
            process_id=os.getpid(),
            client_info=types.ClientInfo(name="claw-lsp", version=__version__),
            root_uri=folders[0].uri if folders else None,
            workspace_folders=folders or None,
            initialization_options=self.config.initialization_options,
            capabilities=CLIENT_CAPABILITIES,
        )

    async def _read(
        self, client: BaseLanguageClient, stdout: asyncio.StreamReader, stop: threading.Event
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await run_async(stop_event=stop, reader=stdout, protocol=client.protocol, logger=log)

    async def _drain(self, stderr: asyncio.StreamReader) -> None:
        """Keep the last lines (for the error when it dies); a full pipe would block it."""
        while line := await stderr.readline():
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    async def _watch(self, process: asyncio.subprocess.Process, stop: threading.Event) -> None:
        code = await process.wait()
        stop.set()
        if self._process is not process or self.failed:
            return
        reason = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        last = next((line for line in reversed(self._stderr) if line.strip()), "")
        self.crashed = f"{reason}{': ' + last[:200] if last else ''}"
        log.warning("language server %s exited (%s)", self.name, self.crashed)
        self._store.forget_source(self.name)
        for future in list(self._pending):
            if not future.done():
                future.set_exception(_Exited(self.crashed))

    async def stop(self) -> None:
        """shutdown + exit, then the process group is killed if it lingers."""
        client, process = self._client, self._process
        if client is None or process is None:
            return
        self.failed = self.failed or "claw is shutting down"
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await self._send("shutdown", None, SHUTDOWN_TIMEOUT_S)
                client.protocol.notify("exit", None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), SHUTDOWN_TIMEOUT_S)
        await self._kill()

    async def _kill(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), SHUTDOWN_TIMEOUT_S)
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    # -- requests -----------------------------------------------------------------------------
    async def _send(self, method: str, params: Any, limit_s: float) -> Any:
        client, process = self._client, self._process
        if client is None or process is None or process.returncode is not None:
            raise LanguageServerError(self._gone(method))
        msg_id = str(uuid.uuid4())
        try:
            future = client.protocol.send_request(method, params, msg_id=msg_id)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)
            return await asyncio.wait_for(asyncio.wrap_future(future), limit_s)
        except TimeoutError:
            with contextlib.suppress(Exception):
                client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
            raise LanguageServerError(
                f"language server {self.name} did not answer {method} within {limit_s:.0f} s"
            ) from None
        except _Exited:
            raise LanguageServerError(self._gone(method)) from None
        except (ConnectionError, OSError):
            raise LanguageServerError(self._gone(method)) from None

    def _gone(self, method: str) -> str:
        left = MAX_RESTARTS - self.restarts
        then = (
            f"claw restarts it on the next request ({left} restart(s) left)"
            if left > 0
            else "claw does not restart it again this session"
        )
        return (
            f"language server {self.name} exited ({self.crashed or 'not running'}) while "
            f"answering {method}; {then}"
        )

    async def request(self, method: str, params: dict[str, Any], limit_s: float) -> Any:
        """An LSP request with JSON params; the result as JSON (whatever server it came from)."""
        params_type = types.METHOD_TO_TYPES[method][2]
        try:
            typed = self._converter.structure(params, params_type)
        except Exception as exc:  # our own params: a bug, not the model's fault
            raise LanguageServerError(f"bad {method} params: {type(exc).__name__}") from None
        result = await self._send(method, typed, limit_s)
        return self._converter.unstructure(result)

    # -- documents ----------------------------------------------------------------------------
    def covers(self, path: Path, language_id: str | None) -> bool:
        name = path.name.lower()
        if any(name.endswith(ext) for ext in self.config.extensions):
            return True
        return language_id is not None and language_id in self.config.filetypes

    def synced_version(self, uri: str) -> int | None:
        doc = self._documents.get(uri)
        return doc.version if doc else None

    def sync(self, uri: str, text: str, language_id: str) -> int:
        """Make the server see `text` for `uri`; returns the version it now has."""
        client = self._client
        if client is None or not self.running:
            raise LanguageServerError(self._gone("a document sync"))
        doc = self._documents.get(uri)
        if doc is None:
            if len(self._documents) >= MAX_OPEN_DOCUMENTS:
                self._close_oldest(client)
            doc = self._documents[uri] = _Document(1, text)
            client.protocol.notify(
                "textDocument/didOpen",
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri, language_id=language_id, version=1, text=text
                    )
                ),
            )
        elif doc.text != text:
            doc.version += 1
            doc.text = text
            client.protocol.notify(
                "textDocument/didChange",
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version
                    ),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                ),
            )
        return doc.version

    def _close_oldest(self, client: BaseLanguageClient) -> None:
        uri = next(iter(self._documents))
        del self._documents[uri]
        client.protocol.notify(
            "textDocument/didClose",
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)),
        )

    # -- what the server may ask of us --------------------------------------------------------
    def _register_handlers(self, client: BaseLanguageClient) -> None:
        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            doc = self._documents.get(params.uri)
            version = params.version
            if version is None and doc is not None:
                version = doc.version  # servers answer in order: the latest text we sent
            raw = self._converter.unstructure(params.diagnostics)
            self._store.publish(params.uri, self.name, version, parse_diagnostics(raw))

        @client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [configuration_section(self.config.settings, i.section) for i in params.items]

        @client.feature(types.WORKSPACE_WORKSPACE_FOLDERS)
        def folders(params: Any) -> list[types.WorkspaceFolder]:
            return [types.WorkspaceFolder(uri=r.uri, name=r.name) for r in self._roots()]

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: Any) -> types.ApplyWorkspaceEditResult:
            # Edits go through claw's tools and permissions only.
            return types.ApplyWorkspaceEditResult(
                applied=False, failure_reason="claw does not apply edits from language servers"
            )

        for method in (
            types.WINDOW_WORK_DONE_PROGRESS_CREATE,
            types.CLIENT_REGISTER_CAPABILITY,
            types.CLIENT_UNREGISTER_CAPABILITY,
            types.WINDOW_SHOW_MESSAGE_REQUEST,
            types.WORKSPACE_DIAGNOSTIC_REFRESH,
            types.WORKSPACE_SEMANTIC_TOKENS_REFRESH,
            types.WORKSPACE_INLAY_HINT_REFRESH,
            types.WORKSPACE_CODE_LENS_REFRESH,
        ):
            client.feature(method)(answer_none)
        for method in (
            types.WINDOW_LOG_MESSAGE,
            types.WINDOW_SHOW_MESSAGE,
            types.PROGRESS,
            types.TELEMETRY_EVENT,
            types.LOG_TRACE,
        ):
            client.feature(method)(answer_none)
