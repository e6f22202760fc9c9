"""Where language answers come from, best first: the editor's own servers (the `claw/lsp`
request a client declares with `clientCapabilities.lsp`), else the servers claw runs itself
(`languageServers`), else nothing (and then no language tool is offered at all)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from claw_lsp.config import LanguageServerConfig, Settings
from claw_lsp.edits.filetext import read_file_text
from claw_lsp.edits.positions import PositionEncoding
from claw_lsp.foundation.ports import Editor
from claw_lsp.lsp_tools.diagnostics import Diagnostic, DiagnosticStore, parse_diagnostics
from claw_lsp.lsp_tools.errors import LanguageServerError
from claw_lsp.lsp_tools.languages import language_id_for
from claw_lsp.permissions.paths import PathDenied, ResolvedPath, Workspace, uri_to_path

if TYPE_CHECKING:  # the client (lsprotocol, pygls) loads when a server is first started
    from claw_lsp.lsp_tools.managed import ManagedServer

log = logging.getLogger(__name__)
MAX_TEXT_BYTES = 8_000_000
REQUEST_TIMEOUT_S = 15.0
SYNC_DEBOUNCE_S = 0.2
EDITOR = "editor"


class EditorChannel(Protocol):
    """The client's side of `claw/lsp`, provided by the LSP front door: one request carrying an
    LSP method and its params (positions in `encoding`), answered by every server the editor
    has for the document as a list of {server, result} or {server, error}."""

    @property
    def encoding(self) -> PositionEncoding: ...

    async def request(self, method: str, params: Mapping[str, Any]) -> Any: ...


class LanguageUnavailable(Exception):
    """Model-facing: no language server could answer."""


@dataclass(frozen=True)
class Answer:
    server: str
    result: Any
    encoding: PositionEncoding


@dataclass
class Answers:
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    covered: bool = False

    def non_empty(self) -> list[Answer]:
        return [a for a in self.answers if a.result not in (None, [], {})]


@dataclass(frozen=True)
class Document:
    target: ResolvedPath
    text: str
    version: int | None  # the editor's version; None for a file only on disk
    language_id: str

    @property
    def uri(self) -> str:
        return self.target.uri


ParamsFor = Callable[[PositionEncoding], dict[str, Any]]


class LanguageHub:
    def __init__(
        self,
        *,
        settings: Callable[[], Settings],
        workspace: Workspace,
        editor: Editor,
        channel: EditorChannel | None = None,
    ) -> None:
        self._settings = settings
        self.workspace = workspace
        self.editor = editor
        self.channel = channel
        self.store = DiagnosticStore()
        self._servers: dict[str, ManagedServer] = {}
        self._pending_sync: dict[str, asyncio.TimerHandle] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # -- what is there ------------------------------------------------------------------------
    def configured(self) -> Mapping[str, LanguageServerConfig]:
        return self._settings().language_servers

    def available(self) -> bool:
        return self.channel is not None or bool(self.configured())

    def diagnostics_wait(self) -> float:
        return self._settings().diagnostics_wait

    def _server(self, name: str, config: LanguageServerConfig) -> ManagedServer:
        server = self._servers.get(name)
        if server is None:
            from claw_lsp.lsp_tools.managed import ManagedServer

            server = ManagedServer(
                config,
                lambda: self.workspace.roots,
                self.store,
                passthrough=self._settings().env_passthrough,
            )
            self._servers[name] = server
        return server

    def servers_for(self, path: Path, language_id: str | None) -> list[ManagedServer]:
        servers = (self._server(name, config) for name, config in self.configured().items())
        return [server for server in servers if server.covers(path, language_id)]

    def all_servers(self) -> list[ManagedServer]:
        return [self._server(name, config) for name, config in self.configured().items()]

    def read(self, target: ResolvedPath) -> Document:
        """The text a language server should see: the editor's buffer, else the disk."""
        snapshot = self.editor.snapshot(target.path)
        if snapshot is not None:
            language = snapshot.language_id or language_id_for(target.path)
            return Document(target, snapshot.text, snapshot.version, language)
        try:
            text = read_file_text(target.path, max_bytes=MAX_TEXT_BYTES).text
        except (OSError, ValueError) as exc:
            raise LanguageUnavailable(f"cannot read {target.relative}: {exc}") from None
        return Document(target, text, None, language_id_for(target.path))

    # -- questions ----------------------------------------------------------------------------
    async def ask(
        self, method: str, doc: Document | None, params: ParamsFor, *, sync_open: bool = False
    ) -> Answers:
        """The editor first; claw-run servers when the editor had nothing (or is absent).
        `sync_open`: hand claw-run servers every open buffer first (answers about other files,
        like a rename's edits, must fit the text the user has)."""
        out = Answers()
        if self.channel is not None:
            await self._ask_editor(method, params, out)
            if out.non_empty():
                return out
        servers = (
            self.servers_for(doc.target.path, doc.language_id)
            if doc is not None
            else self.all_servers()
        )
        if servers:
            out.covered = True
            await asyncio.gather(
                *(self._ask_server(s, method, doc, params, out, sync_open) for s in servers)
            )
        return out

    async def _ask_editor(self, method: str, params: ParamsFor, out: Answers) -> None:
        assert self.channel is not None
        encoding = self.channel.encoding
        try:
            reply = await self.channel.request(method, params(encoding))
        except Exception as exc:
            out.covered = True  # the editor is there, it failed: say so, not "no server"
            out.errors.append(f"the editor did not answer {method} ({type(exc).__name__})")
            return
        for item in reply if isinstance(reply, list) else []:
            if not isinstance(item, Mapping):
                continue
            server = str(item.get("server") or EDITOR)
            out.covered = True
            if item.get("error"):
                out.errors.append(f"{server}: {str(item['error'])[:200]}")
            else:
                out.answers.append(Answer(server, item.get("result"), encoding))

    async def _ask_server(
        self,
        server: ManagedServer,
        method: str,
        doc: Document | None,
        params: ParamsFor,
        out: Answers,
        sync_open: bool,
    ) -> None:
        try:
            await server.ensure_running()
            if sync_open:
                self._sync_open_documents(server)
            if doc is not None:
                server.sync(doc.uri, doc.text, doc.language_id)
            result = await server.request(method, params(PositionEncoding.UTF16), REQUEST_TIMEOUT_S)
        except LanguageServerError as exc:
            out.errors.append(str(exc))
            return
        out.answers.append(Answer(server.name, result, PositionEncoding.UTF16))

    def _sync_open_documents(self, server: ManagedServer) -> None:
        """A server reads files it was not given from disk: hand it the editor's buffers."""
        for opened in self.editor.open_documents():
            if opened.path is not None and server.covers(opened.path, opened.language_id):
                self._sync_path(server, opened.path)

    def _sync_path(self, server: ManagedServer, path: Path) -> int | None:
        try:
            doc = self.read(self.workspace.resolve(str(path)))
            return server.sync(doc.uri, doc.text, doc.language_id)
        except (PathDenied, LanguageUnavailable, LanguageServerError):
            return None

    # -- diagnostics --------------------------------------------------------------------------
    async def editor_diagnostics(self, doc: Document) -> list[Diagnostic] | None:
        """Asked of the editor now (None: it could not say)."""
        out = Answers()
        await self._ask_editor(
            "textDocument/diagnostic", lambda enc: {"textDocument": {"uri": doc.uri}}, out
        )
        if not out.answers:
            return None
        found: list[Diagnostic] = []
        for answer in out.answers:
            result = answer.result if isinstance(answer.result, Mapping) else {}
            found.extend(parse_diagnostics(result.get("items")))
        return found

    async def server_diagnostics(
        self, doc: Document, servers: Sequence[ManagedServer], wait_s: float
    ) -> tuple[list[Diagnostic], list[str]]:
        """Diagnostics of the text as it is now, waiting (bounded) for servers to publish."""
        key = doc.uri
        problems: list[str] = []
        waits = []
        names = []
        for server in servers:
            try:
                await server.ensure_running()
                version = server.sync(doc.uri, doc.text, doc.language_id)
            except LanguageServerError as exc:
                problems.append(str(exc))
                continue
            names.append(server.name)
            published = self.store.published(key, server.name)
            if published is None or (published.version or 0) < version:
                waits.append(
                    self.store.wait(
                        key, sources=[server.name], version=version, after=0, wait_s=wait_s
                    )
                )
        if waits:
            await asyncio.gather(*waits)
        return self.store.current(key, names), problems

    def publish_from_editor(
        self,
        uri: str,
        version: int | None,
        items: Any,
        source: str | None,
        sources: Sequence[str] | None,
    ) -> None:
        """`claw/diagnostics` from the client: one server's (or the editor's) whole list."""
        self.store.publish(uri, source or EDITOR, version, parse_diagnostics(items), sources)

    def known_diagnostics(self, uri: str) -> list[Diagnostic]:
        return self.store.current(uri)

    # -- documents the user edits (plain clients) ---------------------------------------------
    def document_event(self, kind: str, uri: str) -> None:
        """didOpen/didChange from the client: claw-run servers follow the user's buffers (for
        the 'Fix' quick fixes); coalesced, and only for files a configured server covers."""
        if self.channel is not None or not self.configured():
            return
        try:
            target = self.workspace.resolve_uri(uri)
        except PathDenied:
            return
        snapshot = self.editor.snapshot(target.path)
        language = snapshot.language_id if snapshot else None
        if not self.servers_for(target.path, language or language_id_for(target.path)):
            return
        pending = self._pending_sync.pop(uri, None)
        if pending is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending_sync[uri] = loop.call_later(
            0 if kind == "open" else SYNC_DEBOUNCE_S, self._spawn_sync, target
        )

    def _spawn_sync(self, target: ResolvedPath) -> None:
        self._pending_sync.pop(target.uri, None)
        self.spawn(self.prefetch(target))

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def prefetch(self, target: ResolvedPath) -> None:
        """Start the covering servers and hand them the text, without waiting for anything."""
        try:
            doc = self.read(target)
        except LanguageUnavailable:
            return
        for server in self.servers_for(target.path, doc.language_id):
            try:
                await server.ensure_running()
                server.sync(doc.uri, doc.text, doc.language_id)
            except LanguageServerError as exc:
                log.info("prefetch for %s: %s", target.relative, exc)

    async def close(self) -> None:
        for handle in self._pending_sync.values():
            handle.cancel()
        current = asyncio.current_task()
        for task in list(self._background):
            if task is not current:
                task.cancel()
        await asyncio.gather(
            *(server.stop() for server in self._servers.values()), return_exceptions=True
        )


def resolve_location_path(workspace: Workspace, uri: str) -> ResolvedPath | str:
    """A result's file: a workspace path, or its plain path when outside (shown, never read)."""
    try:
        return workspace.resolve_uri(uri)
    except PathDenied:
        with contextlib.suppress(PathDenied):
            return os.fspath(uri_to_path(uri))
        return uri
