"""pygls' protocol with the lifecycle and error rules of LSP enforced (SECURITY.md §3):
requests before `initialize` get -32002, a second `initialize` an error, requests after
`shutdown` -32600; internal errors reach the client scrubbed, without tracebacks; `exit` without
`shutdown` exits 1; `$/cancelRequest` really cancels a running command, and only a request the
client sent; a response is taken only for a request the server sent; every outgoing frame is
redacted and escaped (egress.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
)
from pygls.protocol import LanguageServerProtocol, lsp_method

from claw_lsp.foundation.secrets import redact
from claw_lsp.server.egress import outgoing

log = logging.getLogger(__name__)

SERVER_NOT_INITIALIZED = -32002
# Emacs' jsonrpc.el (eglot's transport, Emacs 28 and 29) reads whatever the pipe holds and
# dispatches its frames in a loop; the response to a synchronous `jsonrpc-request` (eglot's
# executeCommand, codeAction) `throw`s out of that loop, so the frames that came in the same
# read (a background turn's first events, its workspace/applyEdit) wait in the process buffer
# until more output arrives: the edit is answered only when the server has already timed it
# out. A frame sent after a response is therefore followed, once the server falls quiet, by an
# ignorable `$/` notification (LSP: a client may ignore any `$/` notification) that makes the
# client read again; later ones cover a nudge that itself came in the same read.
FLUSH_NOTIFICATION = "$/claw/flush"
FLUSH_AFTER_S = (0.2, 1.0, 3.0)
ALWAYS_ALLOWED = {types.INITIALIZE, types.EXIT}
# A client's own mistakes: the client got a clear error; stderr (the editor's LSP log) gets one
# line, never a traceback, and never the request's params.
EXPECTED_CLIENT_ERRORS = frozenset(
    {
        JsonRpcInvalidParams.CODE,
        JsonRpcInvalidRequest.CODE,
        JsonRpcMethodNotFound.CODE,
        JsonRpcRequestCancelled.CODE,
        SERVER_NOT_INITIALIZED,
    }
)


def expected_client_error(error: BaseException | None) -> bool:
    return isinstance(error, JsonRpcException) and error.code in EXPECTED_CLIENT_ERRORS


class OneLineClientErrors(logging.Filter):
    """pygls logs every JsonRpcException with logger.exception (and the params): for the
    client's mistakes keep only a one-line summary."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if expected_client_error(error):
            assert isinstance(error, JsonRpcException)
            record.msg = "request failed: %s (%s)"
            record.args = (redact(str(error.message)).splitlines()[0][:300], error.code)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_PYGLS_LOGGERS = ("pygls.protocol.json_rpc", "pygls.protocol.language_server", "pygls")


class ClawProtocol(LanguageServerProtocol):
    debug = False
    on_exit: Callable[[int], None] = staticmethod(lambda code: None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in _PYGLS_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, OneLineClientErrors) for f in logger.filters):
                logger.addFilter(OneLineClientErrors())
        self.initialize_received = False
        self.cancellable: dict[Any, Callable[[], object]] = {}
        # Ids are the client's and the server's alike, and pygls keeps both kinds in one dict
        # (_request_futures): these say whose each pending id is.
        self.client_requests: dict[Any, str] = {}  # id -> method, until answered
        self.server_requests: set[Any] = set()
        self._after_response = False  # a frame since the last response may be stuck unread
        self._flushes: list[asyncio.TimerHandle] = []

    # -- lifecycle gates ---------------------------------------------------------------------
    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        is_request = msg_id is not None and method is not None
        if method is not None and method not in ALWAYS_ALLOWED:
            if not self.initialize_received:
                if is_request:
                    self._send_error(msg_id, SERVER_NOT_INITIALIZED, "server not initialized")
                return
            if self._shutdown and is_request:
                self._send_error(
                    msg_id,
                    JsonRpcInvalidRequest.CODE,
                    "server is shutting down; no requests after shutdown",
                )
                return
        if method == types.INITIALIZE and is_request:
            if self.initialize_received:
                self._send_error(msg_id, JsonRpcInvalidRequest.CODE, "already initialized")
                return
            self.initialize_received = True
        if is_request:
            if msg_id in self.client_requests or msg_id in self._request_futures:
                # Reusing a pending id would overwrite (and answer) that request's future; the
                # refusal bypasses _send_data, which would take the pending request as answered.
                error = {"code": JsonRpcInvalidRequest.CODE, "message": "request id in use"}
                super()._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})
                return
            self.client_requests[msg_id] = str(method)
        elif method is None and msg_id not in self.server_requests:
            log.warning("ignored a response to an id the server never sent a request with")
            return
        super().handle_message(message)

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))

    # -- whose ids: requests the server sends, responses it takes -----------------------------
    def send_request(
        self, method: str, params: Any = None, callback: Any = None, msg_id: Any = None
    ) -> Any:
        msg_id = str(uuid.uuid4()) if msg_id is None else msg_id
        self.server_requests.add(msg_id)
        future = super().send_request(method, params, callback, msg_id)
        future.add_done_callback(lambda _: self.server_requests.discard(msg_id))
        return future

    # -- every frame leaves redacted and escaped ---------------------------------------------
    def _send_data(self, data: Any) -> None:
        if not data:
            return
        try:
            frame = json.loads(json.dumps(data, default=self._serialize_message))
        except Exception:
            log.exception("could not serialise an outgoing message")
            return
        answered = None
        is_response = isinstance(frame, dict) and "method" not in frame and "id" in frame
        if is_response:
            answered = self.client_requests.pop(frame["id"], None)
        super()._send_data(outgoing(frame, answered) if isinstance(frame, dict) else frame)
        if is_response:
            self._after_response = True
        elif self._after_response and frame.get("method") != FLUSH_NOTIFICATION:
            self._schedule_flushes()

    # -- frames stuck behind a response in the client's read (FLUSH_NOTIFICATION) ------------
    def _schedule_flushes(self) -> None:
        """(Re)arms the nudges: they go out once the server has been quiet for a while."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for handle in self._flushes:
            handle.cancel()
        last = len(FLUSH_AFTER_S) - 1
        self._flushes = [
            loop.call_later(delay, self._send_flush, index == last)
            for index, delay in enumerate(FLUSH_AFTER_S)
        ]

    def _send_flush(self, last: bool) -> None:
        if last:
            self._after_response = False
            self._flushes = []
        if self._shutdown or self.writer is None:
            return
        try:
            self.notify(FLUSH_NOTIFICATION, None)
        except Exception:
            log.debug("could not send %s", FLUSH_NOTIFICATION, exc_info=True)

    # -- errors leave scrubbed ---------------------------------------------------------------
    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if error is not None:
            error = self._scrub(error)
        super()._send_response(msg_id, result=result, error=error)

    def _scrub(self, error: Any) -> Any:
        code = getattr(error, "code", None)
        message = redact(str(getattr(error, "message", "")))
        if code == -32603 and not self.debug:
            message = "internal error in claw-lsp (details in the server log)"
        data = getattr(error, "data", None) if self.debug else None
        if data is not None:
            data = redact(str(data))
        return types.ResponseError(
            code=code if code is not None else -32603, message=message, data=data
        )

    # -- exit ----------------------------------------------------------------------------------
    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        code = 0 if self._shutdown else 1
        self.on_exit(code)
        try:
            sys.stdout.flush()
        finally:
            os._exit(code)
        yield  # pragma: no cover - keeps this a generator like the method it replaces

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        # pygls iterates the live dict while cancelling, and cancel callbacks mutate it.
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    # -- commands: the whole ExecuteCommandParams reaches the handler (workDoneToken) ---------
    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams(f"unknown command {params.command!r}")
        result = yield handler, (params,), None
        return result

    # -- cancellation ------------------------------------------------------------------------
    def _handle_cancel_notification(self, msg_id: Any) -> None:
        if msg_id not in self.client_requests:
            # Not a request of the client's (it may be the id of the server's own pending
            # workspace/applyEdit): cancelling that would end the turn waiting on it.
            log.info("ignored $/cancelRequest for an id the client has no request under")
            return
        cancel = self.cancellable.pop(msg_id, None)
        if cancel is not None:
            cancel()
        super()._handle_cancel_notification(msg_id)

    def register_cancellable(self, msg_id: Any, task: asyncio.Task[Any]) -> None:
        if msg_id is not None:
            self.cancellable[msg_id] = task.cancel
            task.add_done_callback(lambda _: self.cancellable.pop(msg_id, None))
