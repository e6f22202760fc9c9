"""The core's ports over ACP: the Editor (the client's buffers and `fs/write_text_file`), the
Approver (`session/request_permission`) and the EventSink (`session/update`).

One AgentService serves every ACP session of the process; the port calls a turn makes run in
that turn's task, so `current` (a context variable set by the prompt handler) says which ACP
session they belong to."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import helpers
from acp.interfaces import Client
from acp.schema import ClientCapabilities, PermissionOption, ToolCallLocation

from claw_lsp.acp import translate
from claw_lsp.acp.outbox import Outbox
from claw_lsp.edits.disk import write_changes_to_disk
from claw_lsp.foundation.escape import escaped_approval
from claw_lsp.foundation.ports import (
    ApplyResult,
    ApprovalAnswer,
    ApprovalRequest,
    BufferSnapshot,
    FileChange,
    OpenDocument,
    answer_in_time,
)
from claw_lsp.foundation.secrets import neutralize_markdown, split_streamed
from claw_lsp.permissions.paths import Root

log = logging.getLogger(__name__)
APPROVAL_TIMEOUT_S = 120.0  # as the LSP door's dialog: no answer in time is a "deny"
WRITE_TIMEOUT_S = 30.0
ALLOW_ONCE, ALLOW_SESSION, REJECT = "allow-once", "allow-session", "reject"


@dataclass
class AcpSession:
    """One ACP session: a claw session (same id) in the folder of its cwd."""

    id: str
    root: Root
    # Text the client sent for files this turn (embedded resources) and what the agent wrote
    # through the client: reads see these, as the LSP door's reads see open buffers.
    buffers: dict[Path, str] = field(default_factory=dict)
    current_call: str | None = None  # the tool call a diff or a permission belongs to
    commands_sent: bool = False  # the slash commands, as available_commands_update
    plan_mode: bool = False  # the ACP mode `plan`: prompts run as plan-mode turns


current: contextvars.ContextVar[AcpSession | None] = contextvars.ContextVar(
    "claw_acp_session", default=None
)


@dataclass
class Peer:
    """What every port shares: the connection, what the client can do, the sessions."""

    outbox: Outbox = field(default_factory=Outbox)
    capabilities: ClientCapabilities = field(default_factory=ClientCapabilities)
    sessions: dict[str, AcpSession] = field(default_factory=dict)

    @property
    def client(self) -> Client | None:
        return self.outbox.client

    @property
    def reads_through_client(self) -> bool:
        fs = self.capabilities.fs
        return bool(fs and fs.read_text_file)

    @property
    def writes_through_client(self) -> bool:
        fs = self.capabilities.fs
        return bool(fs and fs.write_text_file)


class AcpEditor:
    """Writes go through the client's `fs/write_text_file` when it offers it (its buffers, undo
    and review apply); otherwise, and for deleting a file (ACP has no delete), confined atomic
    writes on disk, as the CLI does. Every applied change shows as a diff on its tool call."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    @property
    def supports_apply_edit(self) -> bool:
        return True  # either way the change is applied here, never only proposed

    def snapshot(self, path: Path) -> BufferSnapshot | None:
        session = current.get()
        if session is None:
            return None
        text = session.buffers.get(real_path(path))
        return (
            BufferSnapshot(text=text, version=None, uri=path.as_uri()) if text is not None else None
        )

    def open_documents(self) -> Sequence[OpenDocument]:
        session = current.get()
        paths = list(session.buffers) if session else []
        return [OpenDocument(p.as_uri(), p, None, None) for p in paths]

    def unsaved_paths(self) -> list[Path]:
        return []  # the client's buffers are its own business; a shell command sees the disk

    async def save_documents(self, paths: Sequence[Path]) -> list[Path]:
        return []

    async def apply(self, change: FileChange) -> ApplyResult:
        return await self.apply_many([change], change.label)

    async def apply_many(self, changes: Sequence[FileChange], label: str) -> ApplyResult:
        session = current.get()
        client = self.peer.client
        for change in changes:
            if session is not None and client is not None and self.peer.writes_through_client:
                result = await self._through_client(client, session, change)
            else:
                result = write_changes_to_disk([change])
            if not result.applied:
                return result
            if session is not None:
                self._show_diff(session, change)
        return ApplyResult(True)

    async def _through_client(
        self, client: Client, session: AcpSession, change: FileChange
    ) -> ApplyResult:
        if change.delete:
            return write_changes_to_disk([change])
        try:
            await asyncio.wait_for(
                client.write_text_file(
                    session_id=session.id, path=str(change.path), content=change.after
                ),
                WRITE_TIMEOUT_S,
            )
        except TimeoutError:
            return ApplyResult(None, f"the editor did not confirm the write of {change.path.name}")
        except Exception as exc:
            log.info("fs/write_text_file failed", exc_info=True)
            return ApplyResult(False, f"the editor refused the write: {translate.shown(exc, 300)}")
        session.buffers[real_path(change.path)] = change.after
        return ApplyResult(True)

    def _show_diff(self, session: AcpSession, change: FileChange) -> None:
        if session.current_call is None:
            return
        path = str(change.path)
        content = (
            translate.text_content(f"deleted {path}")
            if change.delete
            else helpers.tool_diff_content(path, change.after, change.before)
        )
        self.peer.outbox.send(
            session.id,
            helpers.update_tool_call(
                session.current_call,
                status="in_progress",
                content=[content],
                locations=[ToolCallLocation(path=path)],
            ),
        )


class AcpApprover:
    """`session/request_permission` on the tool call that needs it. No answer in time, a
    cancelled prompt, an unknown option or no session all mean "deny"."""

    def __init__(self, peer: Peer, timeout_s: float = APPROVAL_TIMEOUT_S) -> None:
        self.peer = peer
        self.timeout_s = timeout_s

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        session = current.get()
        client = self.peer.client
        if session is None or client is None:
            return "deny"
        await self.peer.outbox.flush()  # the tool call it is about is on screen first
        tool, subject, reason = escaped_approval(request.tool, request.subject, request.reason)
        options = [PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once")]
        if request.allow_session:
            options.append(
                PermissionOption(
                    option_id=ALLOW_SESSION, name="Allow for session", kind="allow_always"
                )
            )
        options.append(PermissionOption(option_id=REJECT, name="Deny", kind="reject_once"))
        call = helpers.update_tool_call(
            session.current_call or f"approval-{id(request)}",
            title=f"{tool}: {subject}".splitlines()[0][: translate.MAX_TITLE_CHARS],
            status="pending",
            content=[translate.text_content(f"{subject}\nReason: {reason}")],
        )
        answer = await answer_in_time(
            client.request_permission(session_id=session.id, tool_call=call, options=options),
            self.timeout_s,
            request.tool,
        )
        if answer is None:
            return "deny"
        outcome = answer.outcome
        chosen = getattr(outcome, "option_id", None) if outcome.outcome == "selected" else None
        if chosen == ALLOW_ONCE:
            return "once"
        if chosen == ALLOW_SESSION and request.allow_session:
            return "session"
        return "deny"


class AcpEvents:
    """One turn's events as session updates. Streamed text is held back a little, as in the
    LSP door: a secret split between deltas is redacted whole, and markup that a client's
    renderer would fetch by itself (a remote image) is neutralised whole."""

    def __init__(
        self,
        peer: Peer,
        session: AcpSession,
        tool_output: Callable[[str], str | None],
    ) -> None:
        self.peer = peer
        self.session = session
        self.tool_output = tool_output  # the tool message's text, by call id
        self._held = ""
        self._child_steps: dict[str, list[str]] = {}  # a task call's subagent calls, shown

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        parent = payload.get("parent")
        if isinstance(parent, dict):
            self._child(kind, payload, str(parent.get("callId")))
            return
        if kind == "text":
            self._text(str(payload.get("delta", "")), final=False)
            return
        if kind == "reasoning":
            self._send(helpers.update_agent_thought_text(translate.shown(payload.get("delta", ""))))
            return
        self._text("", final=True)
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(payload)

    def close(self) -> None:
        self._text("", final=True)

    def _send(self, update: Any) -> None:
        self.peer.outbox.send(self.session.id, update)

    def _text(self, delta: str, *, final: bool) -> None:
        text = self._held + delta
        ready, self._held = (text, "") if final else _ready_part(text)
        if ready:
            shown = neutralize_markdown(translate.shown(ready))
            self._send(helpers.update_agent_message_text(shown))

    def _on_toolCall(self, payload: dict[str, Any]) -> None:
        call_id = str(payload.get("id"))
        name = str(payload.get("name"))
        arguments = payload.get("arguments")
        self.session.current_call = call_id
        self._send(
            helpers.start_tool_call(
                call_id,
                translate.tool_title(name, arguments),
                kind=translate.tool_kind(name),
                status="in_progress",
                locations=translate.tool_locations(self.session.root.real_path, arguments),
                raw_input=arguments,
            )
        )

    def _on_toolResult(self, payload: dict[str, Any]) -> None:
        call_id = str(payload.get("id"))
        ok = bool(payload.get("ok"))
        summary = str(payload.get("summary") or "")
        self.session.current_call = None

        def finished() -> Any:
            # Evaluated by the sender, after the loop appended the tool message (it does so in
            # the same synchronous step as this event): the call's whole output is known then.
            output = self.tool_output(call_id) or summary
            return helpers.update_tool_call(
                call_id,
                status="completed" if ok else "failed",
                content=[
                    translate.text_content(translate.shown(output, translate.MAX_TOOL_OUTPUT_CHARS))
                ],
            )

        self._send(finished)

    def _on_proposal(self, payload: dict[str, Any]) -> None:
        diff = translate.shown(payload.get("diff", ""), translate.MAX_TOOL_OUTPUT_CHARS)
        self._notice(f"proposed edit {payload.get('proposal')} (not applied):\n{diff}")

    def _on_todo(self, payload: dict[str, Any]) -> None:
        self._send(helpers.update_plan(translate.plan_entries(payload)))

    def _on_plan(self, payload: dict[str, Any]) -> None:
        """A plan handed over (plan mode): its Markdown as the agent's message, its steps as
        the client's plan (the todo list accepting it would seed), and how to accept it."""
        plan = str(payload.get("plan") or "")
        self._send(helpers.update_agent_message_text(translate.shown(f"\n\n{plan}\n")))
        self._send(helpers.update_plan(translate.plan_steps(plan)))
        self._notice(
            "plan ready: /accept-plan carries it out (at the current tier); another "
            "prompt in plan mode revises it"
        )

    def _child(self, kind: str, payload: dict[str, Any], task_call: str) -> None:
        """A subagent's events (they carry `parent`), nested in its `task` call: each of its
        tool calls becomes a line of the task call's content. Its text is left out: only its
        final answer counts, and that is the task call's result (shown when it completes),
        as the model sees it; streaming a child's drafts would mix into the parent's message."""
        steps = self._child_steps.setdefault(task_call, [])
        if kind == "toolCall":
            title = translate.tool_title(str(payload.get("name")), payload.get("arguments"))
            steps.append(f"… {title}")
        elif kind == "toolResult" and steps:
            mark = "✓" if payload.get("ok") else "✗"
            steps[-1] = f"{mark} {steps[-1].removeprefix('… ')}"
        else:
            return
        shown = "\n".join(steps[-translate.MAX_CHILD_STEPS :])
        self._send(
            helpers.update_tool_call(
                task_call, status="in_progress", content=[translate.text_content(shown)]
            )
        )

    def _on_notice(self, payload: dict[str, Any]) -> None:
        self._notice(str(payload.get("message", "")))

    def _on_error(self, payload: dict[str, Any]) -> None:
        self._notice(f"error: {payload.get('message', '')}")

    def _notice(self, message: str) -> None:
        shown = neutralize_markdown(translate.shown(message))
        self._send(helpers.update_agent_thought_text(f"[claw] {shown}\n"))


def _ready_part(text: str) -> tuple[str, str]:
    """(send now, hold back): the unfinished last line waits while it holds the start of
    markup, the last word waits for the next delta (the LSP door's rule, server/events.py)."""
    cut = text.rfind("\n") + 1
    tail = text[cut:]
    if any(marker in tail for marker in ("![", "<", "[")) or tail.endswith("!"):
        return text[:cut], tail
    return split_streamed(text)


def real_path(path: Path) -> Path:
    """The key of the buffers: the canonical path (a symlinked spelling finds the same text)."""
    return Path(os.path.realpath(path))
