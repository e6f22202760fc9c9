"""The EventSink port: `claw/event` notifications, and `$/progress` for clients that only
understand progress. Text deltas are coalesced (at most ~20 notifications a second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from claw_lsp.foundation.secrets import neutralize_markdown, redact, split_streamed
from claw_lsp.server.names import EVENT_NOTIFICATION

TEXT_INTERVAL_S = 0.05
LOGGED_KINDS = frozenset({"toolCall", "toolResult", "approval", "edit", "error", "notice"})


class LspEvents:
    def __init__(
        self,
        server: LanguageServer,
        session: str,
        turn: int,
        progress_token: types.ProgressToken | None = None,
        on_proposal: Callable[[], None] = lambda: None,
    ) -> None:
        self.server = server
        self.on_proposal = on_proposal
        self.session = session
        self.turn = turn
        self.token = progress_token
        self._pending_text: list[str] = []
        self._last_flush = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._progress_text = ""
        # What the turn did, for the transcript of a background turn (turn_report.py).
        self.log: list[tuple[str, dict[str, Any]]] = []

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "text" and "parent" in payload:  # a subagent's reply: its own event (issue 18)
            payload = {**payload, "delta": neutralize_markdown(redact(str(payload["delta"])))}
        elif kind == "text":
            self._pending_text.append(payload.get("delta", ""))
            now = time.monotonic()
            if now - self._last_flush >= TEXT_INTERVAL_S:
                self.flush()
            elif self._timer is None:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(TEXT_INTERVAL_S, self.flush)
            return
        self.flush(final=True)
        if kind in LOGGED_KINDS:
            self.log.append((kind, dict(payload)))
        self._send(kind, payload)
        self._progress(kind, payload)
        if kind == "proposal":
            self.on_proposal()

    def flush(self, final: bool = False) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending_text:
            return
        text = "".join(self._pending_text)
        self._pending_text.clear()
        ready, held = (text, "") if final else _complete_part(text)
        if held:
            self._pending_text.append(held)
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(TEXT_INTERVAL_S, self.flush)
        if not ready:
            return
        delta = neutralize_markdown(ready)
        self._last_flush = time.monotonic()
        self._send("text", {"delta": delta})
        self._progress_text = (self._progress_text + delta)[-200:]
        self._report(
            self._progress_text.strip().splitlines()[-1][:100]
            if self._progress_text.strip()
            else "thinking"
        )

    def _send(self, kind: str, payload: dict[str, Any]) -> None:
        params = {"session": self.session, "turn": self.turn, "kind": kind, **payload}
        if kind in ("error", "notice") and "message" in payload:
            params["message"] = redact(str(payload["message"]))
        self.server.protocol.notify(EVENT_NOTIFICATION, params)

    def begin(self, title: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.begin(
                self.token, types.WorkDoneProgressBegin(title=title, cancellable=True)
            )

    def _report(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    def _progress(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "toolCall":
            self._report(f"{payload.get('name')}")
        elif kind == "toolResult":
            self._report(str(payload.get("summary", ""))[:100])
        elif kind == "approval":
            self._report(f"approval for {payload.get('tool')}: {payload.get('decision')}")

    def end(self, message: str) -> None:
        self.flush(final=True)
        if self.token is not None:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )


def _complete_part(text: str) -> tuple[str, str]:
    """Split streamed text so that markup that could become a remote image (`![..](..)`, a
    reference definition, an HTML tag) is neutralised whole: the unfinished last line is held
    back while it contains such a start; and so that a secret is redacted whole (egress.py),
    the last word waits for the text that follows it."""
    cut = text.rfind("\n") + 1
    tail = text[cut:]
    if any(marker in tail for marker in ("![", "<", "[")) or tail.endswith("!"):
        return text[:cut], tail
    return split_streamed(text)
