"""Language intelligence over LSP (issue 16): the `claw/lsp` request to clients that declare
`initializationOptions.clientCapabilities.lsp` (their editor answers from its own language
servers), the `claw/diagnostics` notification they push, and claw-run servers following the
documents of plain clients. The hub itself lives in claw_lsp.lsp_tools."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from claw_lsp.edits.positions import PositionEncoding
from claw_lsp.server.names import DIAGNOSTICS_NOTIFICATION, LSP_REQUEST
from claw_lsp.server.state import ClawServer

if TYPE_CHECKING:
    from claw_lsp.lsp_tools.hub import LanguageHub

log = logging.getLogger(__name__)
MAX_LSP_REQUEST_S = 10.0


class LspEditorChannel:
    """`claw/lsp {method, params}` -> [{server, result} | {server, error}], answered by the
    client from the editor's own language servers."""

    def __init__(self, server: ClawServer) -> None:
        self.server = server

    @property
    def encoding(self) -> PositionEncoding:
        return self.server.editor.encoding

    async def request(self, method: str, params: Mapping[str, Any]) -> Any:
        limit = min(self.server.settings.client_request_timeout, MAX_LSP_REQUEST_S)
        result = await asyncio.wait_for(
            self.server.protocol.send_request_async(
                LSP_REQUEST, {"method": method, "params": dict(params)}
            ),
            limit,
        )
        return _plain(result)


def client_declares_lsp(server: ClawServer) -> bool:
    caps = server.layers["init_options"].get("clientCapabilities")
    return isinstance(caps, Mapping) and caps.get("lsp") is True


def build_hub(server: ClawServer) -> LanguageHub:
    from claw_lsp.lsp_tools.hub import LanguageHub

    channel = LspEditorChannel(server) if client_declares_lsp(server) else None
    return LanguageHub(
        settings=lambda: server.settings,
        workspace=server.claw_workspace,
        editor=server.editor,
        channel=channel,
    )


def _hub(server: ClawServer) -> LanguageHub | None:
    service = server.service
    return service.language if service is not None else None


def register(server: ClawServer) -> None:
    server.language_hub_factory = lambda: build_hub(server)

    @server.feature(DIAGNOSTICS_NOTIFICATION)
    def pushed_diagnostics(ls: ClawServer, params: Any) -> None:
        hub = _hub(ls)
        data = _plain(params)
        if hub is None or not isinstance(data, Mapping) or not isinstance(data.get("uri"), str):
            return
        version = data.get("version")
        sources = data.get("sources")
        source = data.get("source")
        if "diagnostics" not in data:  # which servers cover it, before any has published
            if isinstance(sources, list):
                hub.store.set_sources(data["uri"], [str(s) for s in sources])
            return
        hub.publish_from_editor(
            data["uri"],
            version if isinstance(version, int) and not isinstance(version, bool) else None,
            data.get("diagnostics"),
            source if isinstance(source, str) and source else None,
            [str(s) for s in sources] if isinstance(sources, list) else None,
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ClawServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.editor.overlays.drop(params.text_document.uri)  # the opened text is the truth
        ls.on_document("open", params.text_document.uri)

    def on_document(kind: str, uri: str) -> None:
        hub = _hub(server)
        if hub is not None:
            hub.document_event(kind, uri)

    def on_shutdown() -> None:
        hub = _hub(server)
        if hub is not None:
            hub.spawn(hub.close())  # `exit` follows; kill_children ends what is left

    server.on_document = on_document
    server.on_shutdown = on_shutdown
    server.known_diagnostics = lambda uri: known_diagnostics(server, uri)


def known_diagnostics(server: ClawServer, uri: str) -> list[types.Diagnostic]:
    """What claw-run (or editor) servers reported for a document: for 'Claw: Fix' quick fixes
    in plain clients. Never published as claw's own diagnostics."""
    hub = _hub(server)
    if hub is None:
        return []
    converter = server.protocol._converter
    out = []
    for diag in hub.known_diagnostics(uri):
        try:
            out.append(converter.structure(dict(diag.raw), types.Diagnostic))
        except Exception:
            continue
    return out


def with_known_diagnostics(server: ClawServer, uri: str, given: list[Any]) -> list[Any]:
    """The editor context's diagnostics: what the client sent plus what the language servers
    reported for the active document (each once)."""
    hub = _hub(server)
    if hub is None:
        return given
    seen = {_identity(d) for d in given if isinstance(d, Mapping)}
    merged = list(given)
    for diag in hub.known_diagnostics(uri):
        if _identity(diag.raw) not in seen:
            seen.add(_identity(diag.raw))
            merged.append(dict(diag.raw))
    return merged


def _identity(diag: Mapping[str, Any]) -> tuple[Any, Any]:
    rng = diag.get("range")
    start = rng.get("start") if isinstance(rng, Mapping) else None
    line = start.get("line") if isinstance(start, Mapping) else None
    return (line, " ".join(str(diag.get("message", "")).split()))


def _plain(value: Any) -> Any:
    """pygls hands custom messages over as namedtuples (pygls.protocol.Object)."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
