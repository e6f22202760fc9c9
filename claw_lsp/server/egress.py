"""Every frame the server writes to the editor passes here first: the one place where secrets are
masked and human-facing text is escaped for the LSP channel, whoever built the frame.

- Redaction (foundation.secrets.redact) covers notifications, approval dialogs, command results
  and errors. Left alone are the frames whose text the editor acts on rather than shows: the
  edits of `workspace/applyEdit`, the URIs of `claw/saveDocuments`, and answers to the editor's
  own language-feature requests (code actions and their edits); masking those would write
  `[REDACTED]` into the user's files.
- Escaping (foundation.escape) covers what an editor shows as text: `window/showMessage`,
  `window/logMessage`, `window/showMessageRequest` (message and button titles), `$/progress`
  titles and messages, and every string in `claw/event`, `claw/status` and command results.
"""

from __future__ import annotations

from typing import Any

from claw_lsp.foundation.escape import escape_fields, escape_for_display
from claw_lsp.foundation.secrets import redact_json

# Requests the server sends whose params the editor acts on.
ACTIONABLE_REQUESTS = frozenset({"workspace/applyEdit", "claw/saveDocuments"})
# Answers to these client requests are shown to people (or are the server's own status).
REDACTED_RESPONSES = frozenset({"initialize", "shutdown", "workspace/executeCommand"})


def outgoing(frame: dict[str, Any], answered_method: str | None) -> dict[str, Any]:
    """The frame as it may leave: `answered_method` is the method of the client request a
    response answers (None for requests and notifications the server sends)."""
    method = frame.get("method")
    if isinstance(method, str):
        if method in ACTIONABLE_REQUESTS:
            return frame
        frame = _redacted(frame, "params")
        return _escaped(frame, method)
    if "error" in frame:
        return _redacted(frame, "error")
    if answered_method in REDACTED_RESPONSES or (answered_method or "").startswith("claw/"):
        frame = _redacted(frame, "result")
        if answered_method == "workspace/executeCommand" and frame.get("result") is not None:
            # Command results are shown (doctor's report, a transcript, session titles).
            frame = {**frame, "result": escape_fields(frame["result"])}
    return frame


def _redacted(frame: dict[str, Any], key: str) -> dict[str, Any]:
    value = frame.get(key)
    if value is None or isinstance(value, bool | int | float):
        return frame
    masked = redact_json(value)
    return frame if masked is value else {**frame, key: masked}


def _escaped(frame: dict[str, Any], method: str) -> dict[str, Any]:
    params = frame.get("params")
    if not isinstance(params, dict):
        return frame
    if method in ("claw/event", "claw/status"):
        return {**frame, "params": escape_fields(params)}
    changed = dict(params)
    if method in ("window/showMessage", "window/logMessage", "window/showMessageRequest"):
        if isinstance(params.get("message"), str):
            changed["message"] = escape_for_display(params["message"], multiline=True)
        if isinstance(params.get("actions"), list):
            changed["actions"] = [_escaped_action(a) for a in params["actions"]]
    elif method == "$/progress" and isinstance(params.get("value"), dict):
        value = dict(params["value"])
        for field in ("title", "message"):
            if isinstance(value.get(field), str):
                value[field] = escape_for_display(value[field])
        changed["value"] = value
    else:
        return frame
    return {**frame, "params": changed}


def _escaped_action(action: Any) -> Any:
    if isinstance(action, dict) and isinstance(action.get("title"), str):
        return {**action, "title": escape_for_display(action["title"])}
    return action
