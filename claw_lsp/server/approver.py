"""The Approver port over `window/showMessageRequest`. No answer, a null answer, a timeout or
a client without the capability all mean "deny"."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from claw_lsp.foundation.ports import ApprovalAnswer, ApprovalRequest

log = logging.getLogger(__name__)
ALLOW_ONCE = "Allow once"
ALLOW_SESSION = "Allow for session"
DENY = "Deny"


class LspApprover:
    def __init__(self, server: LanguageServer, timeout_s: float = 120.0) -> None:
        self.server = server
        self.timeout_s = timeout_s

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        actions = [ALLOW_ONCE, *([ALLOW_SESSION] if request.allow_session else []), DENY]
        message = f"claw wants to run {request.tool}: {request.subject}\nReason: {request.reason}"
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=message,
            actions=[types.MessageActionItem(title=a) for a in actions],
        )
        try:
            answer = await asyncio.wait_for(
                self.server.window_show_message_request_async(params), self.timeout_s
            )
        except TimeoutError:
            log.info("approval for %s timed out: denied", request.tool)
            return "deny"
        except asyncio.CancelledError:
            raise
        except Exception:
            log.info("approval request failed: denied", exc_info=True)
            return "deny"
        title = getattr(answer, "title", None)
        if title == ALLOW_ONCE:
            return "once"
        if title == ALLOW_SESSION and request.allow_session:
            return "session"
        return "deny"
