"""The Approver port over `window/showMessageRequest`. No answer, a null answer, a timeout or
a client without the capability all mean "deny"."""

from __future__ import annotations

import logging

from lsprotocol import types

from claw_lsp.foundation.escape import escaped_approval
from claw_lsp.foundation.ports import ApprovalAnswer, ApprovalRequest, answer_in_time
from claw_lsp.server.approval_diagnostics import ApprovalHost, DiagnosticApprovals, wants_dialog

log = logging.getLogger(__name__)
ALLOW_ONCE = "Allow once"
ALLOW_SESSION = "Allow for session"
DENY = "Deny"


class LspApprover:
    def __init__(self, server: ApprovalHost, timeout_s: float = 120.0) -> None:
        self.server = server
        self.timeout_s = timeout_s
        self.diagnostics = DiagnosticApprovals(server)  # clients without dialogs (issue 14)

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        if not wants_dialog(self.server):
            return await self.diagnostics.ask(request, self.timeout_s)
        actions = [ALLOW_ONCE, *([ALLOW_SESSION] if request.allow_session else []), DENY]
        message = approval_message(request)
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=message,
            actions=[types.MessageActionItem(title=a) for a in actions],
        )
        answer = await answer_in_time(
            self.server.window_show_message_request_async(params), self.timeout_s, request.tool
        )
        title = getattr(answer, "title", None)
        if title == ALLOW_ONCE:
            return "once"
        if title == ALLOW_SESSION and request.allow_session:
            return "session"
        return "deny"


def approval_message(request: ApprovalRequest) -> str:
    """The dialog text. Its lines are ours: nothing the model wrote can add or reorder one."""
    tool, subject, reason = escaped_approval(request.tool, request.subject, request.reason)
    return f"claw wants to run {tool}: {subject}\nReason: {reason}"
