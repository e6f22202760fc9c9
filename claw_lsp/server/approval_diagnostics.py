"""Approvals for clients without dialogs (Helix, Kakoune's kak-lsp): a pending approval is an
Information diagnostic where the user asked ("claw wants to run `pytest -x` [shell]"), with the
quick fixes Allow once / Allow for session / Deny (code_actions.py, which also registers
claw.answerApproval). Answering, the approval
timeout, or the end of the turn removes it. No answer is a denial, as with the dialog."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types

from claw_lsp.foundation.escape import escaped_approval
from claw_lsp.foundation.ports import ApprovalAnswer, ApprovalRequest
from claw_lsp.server.names import ANSWER_APPROVAL

if TYPE_CHECKING:
    from pygls.workspace import Workspace

    from claw_lsp.config import Settings


class ApprovalHost(Protocol):
    """What approvals need of the server (state.py builds the approver: no import back)."""

    client_info: dict[str, Any]
    last_ask_at: tuple[str, int] | None
    on_proposals_changed: Callable[[], None]

    @property
    def settings(self) -> Settings: ...

    @property
    def client_capabilities(self) -> types.ClientCapabilities: ...

    @property
    def workspace(self) -> Workspace: ...

    def window_show_message(self, params: types.ShowMessageParams) -> None: ...

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None: ...


log = logging.getLogger(__name__)
# Clients known to lack window/showMessageRequest even though they declare window capabilities.
NO_DIALOG_CLIENTS = frozenset({"helix", "kak-lsp", "kakoune-lsp"})
ANSWER_TITLES = (("once", "Allow once"), ("session", "Allow for session"), ("deny", "Deny"))


@dataclass
class PendingApproval:
    id: str
    uri: str
    line: int
    message: str
    allow_session: bool
    answer: asyncio.Future[ApprovalAnswer]


def wants_dialog(ls: ApprovalHost) -> bool:
    """`approvalPrompt`: dialog, diagnostic, or auto. Auto: a dialog when the client declared
    window.showMessage; also for clients that declare no window capabilities at all (eglot 1.9
    predates the capability and answers the request with its own prompt), except clients known
    not to answer it."""
    mode = ls.settings.approval_prompt
    if mode != "auto":
        return mode == "dialog"
    caps = ls.client_capabilities
    window = caps.window if caps else None
    if window is not None and window.show_message is not None:
        return True
    if str(ls.client_info.get("name") or "").lower() in NO_DIALOG_CLIENTS:
        return False
    return window is None


class DiagnosticApprovals:
    def __init__(self, ls: ApprovalHost) -> None:
        self.ls = ls
        self.pending: dict[str, PendingApproval] = {}

    async def ask(self, request: ApprovalRequest, timeout_s: float) -> ApprovalAnswer:
        where = self._where()
        if where is None:
            log.info("approval for %s: no open document to show it on: denied", request.tool)
            self._notify(types.MessageType.Warning, "claw: an approval was denied: no open file")
            return "deny"
        uri, line = where
        tool, subject, _reason = escaped_approval(request.tool, request.subject, request.reason)
        head = subject.split("\n", 1)[0]
        message = f"claw wants to run `{head}` [{tool}]"
        pending = PendingApproval(
            id=uuid.uuid4().hex[:12],
            uri=uri,
            line=line,
            message=message,
            allow_session=request.allow_session,
            answer=asyncio.get_running_loop().create_future(),
        )
        self.pending[pending.id] = pending
        self.ls.on_proposals_changed()  # republishes the file's claw diagnostics
        self._notify(
            types.MessageType.Warning,
            f"{message}: answer with the quick fixes (code actions) on line {line + 1}",
        )
        try:
            return await asyncio.wait_for(asyncio.shield(pending.answer), timeout_s)
        except TimeoutError:
            log.info("approval for %s timed out: denied", request.tool)
            return "deny"
        finally:
            self.pending.pop(pending.id, None)
            if not pending.answer.done():
                pending.answer.cancel()
            self.ls.on_proposals_changed()

    def answer(self, approval: str, answer: str) -> bool:
        pending = self.pending.get(approval)
        if pending is None or pending.answer.done():
            return False
        if answer == "session" and not pending.allow_session:
            answer = "deny"
        pending.answer.set_result(answer if answer in ("once", "session") else "deny")  # type: ignore[arg-type]
        return True

    def diagnostics_for(self, uri: str) -> list[types.Diagnostic]:
        return [
            types.Diagnostic(
                range=types.Range(types.Position(p.line, 0), types.Position(p.line + 1, 0)),
                message=p.message,
                severity=types.DiagnosticSeverity.Information,
                source="claw",
                code=f"approval:{p.id}",
            )
            for p in self.pending.values()
            if p.uri == uri
        ]

    def uris(self) -> set[str]:
        return {p.uri for p in self.pending.values()}

    def actions_for(
        self, uri: str, rng: types.Range, given: list[types.Diagnostic]
    ) -> list[types.CodeAction]:
        codes = {str(d.code) for d in given if d.source == "claw"}
        out: list[types.CodeAction] = []
        for p in self.pending.values():
            on_line = p.uri == uri and rng.start.line <= p.line <= rng.end.line
            if not on_line and f"approval:{p.id}" not in codes:
                continue
            for answer, title in ANSWER_TITLES:
                if answer == "session" and not p.allow_session:
                    continue
                label = f"Claw: {title}: {p.message.removeprefix('claw wants to run ')}"
                out.append(
                    types.CodeAction(
                        title=label,
                        kind=types.CodeActionKind.QuickFix,
                        is_preferred=answer == "once",
                        diagnostics=self.diagnostics_for(p.uri),
                        command=types.Command(
                            title=label,
                            command=ANSWER_APPROVAL,
                            arguments=[{"approval": p.id, "answer": answer}],
                        ),
                    )
                )
        return out

    def _where(self) -> tuple[str, int] | None:
        at = self.ls.last_ask_at
        try:
            documents = self.ls.workspace.text_documents
        except RuntimeError:  # before initialize
            return None
        if at is not None and at[0] in documents:
            return at
        first = next(iter(documents), None)
        return (first, 0) if first is not None else None

    def _notify(self, kind: types.MessageType, message: str) -> None:
        self.ls.window_show_message(types.ShowMessageParams(type=kind, message=message))
