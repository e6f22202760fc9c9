"""The Editor port over LSP: buffer text and versions from the document sync, file changes as
versioned `workspace/applyEdit` with minimal edits in the negotiated position encoding.

`applied: true` is taken at its word: the edit goes into the server's copy at once
(doc_overlay.py) and the client's later `didChange` is checked against it; no tool result
waits for the client's report. An edit is "unknown" only when the client never answered."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from claw_lsp.edits.positions import PositionEncoding
from claw_lsp.foundation.ports import ApplyResult, BufferSnapshot, FileChange, OpenDocument
from claw_lsp.permissions.paths import PathDenied, uri_to_path
from claw_lsp.server.doc_overlay import DocView, Overlays
from claw_lsp.server.names import SAVE_DOCUMENTS_REQUEST

if TYPE_CHECKING:
    from claw_lsp.edits.textdiff import TextEdit

log = logging.getLogger(__name__)
# After a version conflict on a buffer with an unreported edit: how long to wait for the
# client's didChange (the re-read) before the one rebuilt edit goes out.
REREAD_WAIT_S = 2.0


class LspEditor:
    def __init__(self, server: LanguageServer, timeout_s: float = 30.0) -> None:
        self.server = server
        self.timeout_s = timeout_s
        self.dirty: set[str] = set()  # uris changed since open/save
        self.can_save_documents = False
        self.overlays = Overlays()
        self._reported = asyncio.Event()  # set by each didChange (the re-read after a conflict)
        # Neovim drops an edit whose version is older than its buffer's, silently, and still
        # answers `applied: true`; its versions (changedtick) move by more than one per edit.
        # So an edit of a buffer with an unreported edit goes to it unversioned (lifecycle.py).
        self.unversioned_when_pending = False
        # The last edit a client rejected, so the same stale request is never sent again.
        self._rejected: set[str] = set()

    # -- what the client has -----------------------------------------------------------------
    @property
    def supports_apply_edit(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps and caps.workspace and caps.workspace.apply_edit)

    @property
    def supports_document_changes(self) -> bool:
        caps = self.server.client_capabilities
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        return bool(edit and edit.document_changes)

    @property
    def supports_create(self) -> bool:
        caps = self.server.client_capabilities
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        ops = (edit.resource_operations or []) if edit else []
        return types.ResourceOperationKind.Create in ops

    @property
    def supports_annotations(self) -> bool:
        caps = self.server.client_capabilities
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        return bool(edit and edit.change_annotation_support)

    @property
    def encoding(self) -> PositionEncoding:
        try:
            return PositionEncoding(str(self.server.workspace.position_encoding))
        except (ValueError, RuntimeError):
            return PositionEncoding.UTF16

    def _documents(self) -> dict[str, Any]:
        try:
            documents: dict[str, Any] = self.server.workspace.text_documents
            return documents
        except RuntimeError:
            return {}

    def _find_doc(self, path: Path) -> Any | None:
        real = os.path.realpath(path)
        for uri, doc in self._documents().items():
            try:
                if os.path.realpath(uri_to_path(uri)) == real:
                    return doc
            except PathDenied:
                continue
        return None

    def _find(self, path: Path) -> DocView | None:
        doc = self._find_doc(path)
        return self.overlays.view(doc) if doc is not None else None

    def view_of(self, uri: str) -> DocView | None:
        """The buffer as the agent sees it (with applied, unreported edits), by uri."""
        doc = self._documents().get(uri)
        return self.overlays.view(doc) if doc is not None else None

    def reconcile(self, uri: str) -> bool | None:
        """Called after each didChange (pygls has applied it): see Overlays.reconcile."""
        doc = self._documents().get(uri)
        self._reported.set()
        return self.overlays.reconcile(doc) if doc is not None else None

    def snapshot(self, path: Path) -> BufferSnapshot | None:
        view = self._find(path)
        if view is None:
            return None
        return BufferSnapshot(view.source, view.version, view.language_id, view.uri)

    def open_documents(self) -> Sequence[OpenDocument]:
        out = []
        for uri, doc in self._documents().items():
            try:
                path: Path | None = uri_to_path(uri)
            except PathDenied:
                path = None
            view = self.overlays.view(doc)
            out.append(OpenDocument(uri, path, doc.language_id, view.version))
        return out

    def unsaved_paths(self) -> list[Path]:
        out = []
        for uri in list(self.dirty):
            try:
                out.append(uri_to_path(uri))
            except PathDenied:
                self.dirty.discard(uri)
        return out

    async def save_documents(self, paths: Sequence[Path]) -> list[Path]:
        if not self.can_save_documents or not paths:
            return []
        uris = [p.as_uri() for p in paths]
        try:
            result = await asyncio.wait_for(
                self.server.protocol.send_request_async(SAVE_DOCUMENTS_REQUEST, {"uris": uris}),
                self.timeout_s,
            )
        except Exception:
            log.info("claw/saveDocuments failed or timed out", exc_info=True)
            return []
        saved = (
            result.get("saved", [])
            if isinstance(result, dict)
            else getattr(result, "saved", []) or []
        )
        return [uri_to_path(u) for u in saved if isinstance(u, str)]

    # -- applying ----------------------------------------------------------------------------
    async def apply(self, change: FileChange) -> ApplyResult:
        return await self.apply_many([change], change.label)

    async def apply_many(self, changes: Sequence[FileChange], label: str) -> ApplyResult:
        """All changes as ONE workspace edit, so the editor undoes them together."""
        if not self.supports_apply_edit:
            return self._write_all_to_disk(changes)
        for change in changes:
            view = self._find(change.path)
            if view is not None and change.version is not None and view.version != change.version:
                return ApplyResult(False, "the document changed since it was read")
            if not self.supports_document_changes and (change.before is None or change.delete):
                return self._write_all_to_disk(changes)
            if change.before is None and not self.supports_create:
                return self._write_all_to_disk(changes)
        had_pending = any(self._pending(change) for change in changes)
        result = await self._send(changes, label, unversioned_pending=False)
        if result.applied is not False or not had_pending:
            return result
        # A version conflict on a buffer whose applied edit the client has not reported yet:
        # our guess of its version was wrong. One re-read (wait for its didChange), then one
        # edit rebuilt against what it reported; never the same stale request again.
        await self._await_reports(changes)
        for change in changes:
            view = self._find(change.path)
            if view is not None and not change.delete and view.source != change.before:
                return ApplyResult(False, "the document changed since it was read")
        log.info("version conflict after an unreported edit: one rebuilt edit")
        return await self._send(changes, label, unversioned_pending=True)

    def _pending(self, change: FileChange) -> bool:
        view = self._find(change.path)
        return bool(view and view.pending)

    async def _await_reports(self, changes: Sequence[FileChange]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REREAD_WAIT_S
        while any(self._pending(c) for c in changes) and loop.time() < deadline:
            self._reported.clear()
            try:
                await asyncio.wait_for(self._reported.wait(), deadline - loop.time())
            except TimeoutError:
                return

    async def _send(
        self, changes: Sequence[FileChange], label: str, *, unversioned_pending: bool
    ) -> ApplyResult:
        document_changes: list[Any] = []
        plain: dict[str, list[Any]] = {}
        annotations: dict[str, types.ChangeAnnotation] = {}
        opened: list[tuple[FileChange, DocView]] = []
        for change in changes:
            view = self._find(change.path)
            if view is not None:
                opened.append((change, view))
                if view.pending and (unversioned_pending or self.unversioned_when_pending):
                    # Still unreported after the re-read: its real version is unknown; the
                    # text is the one the client accepted, so send the edit unversioned.
                    view = DocView(view.uri, view.source, None, view.language_id, True)
            self._add_change(change, view, document_changes, plain, annotations)
        key = repr(document_changes) + repr(plain)  # the request's edit, versions included
        if key in self._rejected:
            return ApplyResult(False, "the editor already rejected this exact edit")
        edit = types.WorkspaceEdit(
            document_changes=document_changes if self.supports_document_changes else None,
            changes=plain or None,
            change_annotations=annotations or None,
        )
        params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
        try:
            result = await asyncio.wait_for(
                self.server.workspace_apply_edit_async(params), self.timeout_s
            )
        except TimeoutError:
            return ApplyResult(None, "no answer from the editor")
        except Exception as exc:
            return ApplyResult(False, f"the editor returned an error: {type(exc).__name__}")
        if not result.applied:
            self._rejected.add(key)
            return ApplyResult(False, result.failure_reason or "")
        self._rejected.clear()
        for change, _view in opened:
            doc = self._documents().get(_view.uri)
            if doc is not None and not change.delete:
                self.overlays.applied(doc, change.after)
        return ApplyResult(True)

    def _add_change(
        self,
        change: FileChange,
        doc: DocView | None,
        document_changes: list[Any],
        plain: dict[str, list[Any]],
        annotations: dict[str, Any],
    ) -> None:
        uri = doc.uri if doc is not None else change.uri
        if change.delete:
            document_changes.append(
                types.DeleteFile(
                    uri=uri, options=types.DeleteFileOptions(ignore_if_not_exists=True)
                )
            )
            return
        base = doc.source if doc is not None else (change.before or "")  # a DocView
        from claw_lsp.edits.textdiff import minimal_edits  # difflib: only when editing

        edits: list[Any] = [_to_lsp(e) for e in minimal_edits(base, change.after, self.encoding)]
        if change.needs_confirmation and self.supports_annotations:
            annotations["claw-proposal"] = types.ChangeAnnotation(
                label=change.label, needs_confirmation=True, description="claw proposal"
            )
            edits = [
                types.AnnotatedTextEdit(
                    range=e.range, new_text=e.new_text, annotation_id="claw-proposal"
                )
                for e in edits
            ]
        if not self.supports_document_changes:
            plain.setdefault(uri, []).extend(edits)
            return
        if change.before is None:
            document_changes.append(
                types.CreateFile(
                    uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)
                )
            )
        version = doc.version if doc is not None else None
        document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=edits,
            )
        )

    def _write_all_to_disk(self, changes: Sequence[FileChange]) -> ApplyResult:
        from claw_lsp.edits.disk import write_changes_to_disk

        return write_changes_to_disk(changes)


def _to_lsp(edit: TextEdit) -> types.TextEdit:
    return types.TextEdit(
        range=types.Range(
            start=types.Position(edit.range.start.line, edit.range.start.character),
            end=types.Position(edit.range.end.line, edit.range.end.character),
        ),
        new_text=edit.new_text,
    )
