"""The same agent without an editor: edits go to disk atomically, text streams to stdout."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from claw_lsp.config import ConfigError, options_from_env, read_user_config, resolve_settings
from claw_lsp.edits.disk import write_changes_to_disk
from claw_lsp.foundation.escape import escape_for_display, escaped_approval
from claw_lsp.foundation.ports import (
    ApplyResult,
    ApprovalAnswer,
    ApprovalRequest,
    BufferSnapshot,
    FileChange,
    OpenDocument,
)
from claw_lsp.foundation.secrets import redact, split_streamed
from claw_lsp.llm.warm import warm_model_client_in_background
from claw_lsp.permissions.paths import Workspace, make_root


def shown(text: Any, *, multiline: bool = True) -> str:
    """Anything printed to the terminal: secrets masked, control, bidi and zero-width characters
    escaped (a model-chosen ESC ] 0; ... BEL would otherwise retitle the window)."""
    return escape_for_display(redact(str(text)), multiline=multiline)


def say(text: Any, *, multiline: bool = True, end: str = "\n") -> None:
    print(shown(text, multiline=multiline), end=end, file=sys.stderr, flush=True)


class DiskEditor:
    supports_apply_edit = False

    def snapshot(self, path: Path) -> BufferSnapshot | None:
        return None

    def open_documents(self) -> Sequence[OpenDocument]:
        return []

    def unsaved_paths(self) -> list[Path]:
        return []

    async def save_documents(self, paths: Sequence[Path]) -> list[Path]:
        return []

    async def apply(self, change: FileChange) -> ApplyResult:
        return write_changes_to_disk([change])

    async def apply_many(self, changes: Sequence[FileChange], label: str) -> ApplyResult:
        return write_changes_to_disk(changes)


class TerminalApprover:
    """Asks on the terminal when there is one; otherwise denies (CI never auto-approves)."""

    def __init__(self, assume_yes: bool) -> None:
        self.assume_yes = assume_yes

    @property
    def interactive(self) -> bool:
        """Whether a "deny" may be a person's answer (without a terminal it never is)."""
        return self.assume_yes or (sys.stdin.isatty() and sys.stderr.isatty())

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        if self.assume_yes:
            return "once"
        tool, subject, reason = escaped_approval(request.tool, request.subject, request.reason)
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            say(f"\n[claw] denied {tool} {subject} ({reason}); no terminal to ask")
            return "deny"
        choices = "[o]nce, [s]ession, [N]o" if request.allow_session else "[o]nce, [N]o"
        prompt = shown(f"\n[claw] allow {tool}: {subject}\n  ({reason}) {choices}? ")
        answer = await asyncio.to_thread(_read_answer, prompt)
        if answer.startswith("o"):
            return "once"
        if answer.startswith("s") and request.allow_session:
            return "session"
        return "deny"


def _read_answer(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    return line.strip().lower()


class TerminalEvents:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._held = ""  # the streamed text's last word, until the next delta shows it whole

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.quiet:
            return
        if kind == "text" and "parent" in payload:  # a subagent's reply (issue 18)
            say(f"\n  [subagent] {shown(payload.get('delta'))}")
            return
        if kind == "text":
            ready, self._held = split_streamed(self._held + str(payload.get("delta", "")))
            self._write_text(ready)
            return
        self._write_text(self._held)
        self._held = ""
        if kind == "toolCall":
            args = json.dumps(payload.get("arguments"))[:200]
            say(f"\n• {shown(payload.get('name'), multiline=False)} {args}")
        elif kind == "toolResult":
            mark = "✓" if payload.get("ok") else "✗"
            say(f"  {mark} {shown(payload.get('summary'), multiline=False)}")
        elif kind == "attachment":
            say(
                f"\n• attached @{shown(payload.get('name'), multiline=False)} "
                f"({payload.get('type')}, {payload.get('chars')} chars)"
            )
        elif kind in ("notice", "error"):
            say(f"[claw] {payload.get('message')}")
        elif kind == "proposal":
            say(f"\n[claw] proposal {payload.get('proposal')}:\n{payload.get('diff')}")
        elif kind == "todo":  # issue 18
            marks = {"completed": "[x]", "in_progress": "[>]"}
            rows = [
                f"  {marks.get(str(t.get('status')), '[ ]')} "
                + shown(t.get("content"), multiline=False)
                for t in payload.get("todos") or []
            ]
            say("\n[claw] todo list:\n" + "\n".join(rows))
        elif kind == "plan":  # the plan itself is the result, printed to stdout
            say("\n[claw] plan handed over; carry it out with: claw-lsp ask '' --accept-plan")

    def _write_text(self, text: str) -> None:
        if text:
            sys.stdout.write(shown(text))
            sys.stdout.flush()


def build_service(args: Any, overrides: dict[str, Any]) -> Any:
    from claw_lsp.agent.service import AgentService
    from claw_lsp.llm.provider import ModelProvider
    from claw_lsp.sessions.store import SessionStore

    settings = resolve_settings(
        user_file=read_user_config(), env=options_from_env(), overrides=overrides
    )
    folder = Path(getattr(args, "folder", ".")).resolve()
    workspace = Workspace(
        [make_root(folder.as_uri(), folder.name)],
        protected_real_dirs=(settings.state_dir.resolve(),),
    )
    quiet = bool(getattr(args, "json", False))
    store = SessionStore(settings.state_dir, on_warning=lambda m: say(f"[claw] {m}"))
    editor = DiskEditor()
    service = AgentService(
        settings=lambda: settings,
        workspace=workspace,
        editor=editor,
        approver=TerminalApprover(bool(getattr(args, "yes", False))),
        events=lambda session, turn: TerminalEvents(quiet),
        store=store,
        models=ModelProvider(),
        language=_language_hub(settings, workspace, editor),
    )
    return service, settings


def _language_hub(settings: Any, workspace: Workspace, editor: DiskEditor) -> Any:
    """Language servers claw runs itself (languageServers); none configured: no hub, no tools."""
    if not settings.language_servers:
        return None
    from claw_lsp.lsp_tools.hub import LanguageHub

    return LanguageHub(settings=lambda: settings, workspace=workspace, editor=editor)


def run_command(args: Any) -> int:
    overrides: dict[str, Any] = {}
    for key, attr in (
        ("tier", "tier"),
        ("model", "model"),
        ("baseUrl", "base_url"),
        ("editMode", "edit_mode"),
    ):
        if getattr(args, attr, None):
            overrides[key] = getattr(args, attr)
    if args.command in ("ask", "doctor"):
        # Issue 22: the model client imports in the background while the agent is set up.
        warm_model_client_in_background()
    try:
        service, settings = build_service(args, overrides)
    except ConfigError as exc:
        say(f"claw-lsp: configuration error: {exc}")
        return 1
    if args.command != "doctor":  # doctor lists them in its report
        for warning in settings.warnings:
            print(shown(f"claw-lsp: {warning}", multiline=False), file=sys.stderr)
    if args.command == "sessions":
        return _sessions(service, args)
    if args.command == "doctor":
        return asyncio.run(_doctor(service, settings, args))
    return asyncio.run(_ask(service, args))


def _sessions(service: Any, args: Any) -> int:
    from claw_lsp.agent.operations import list_sessions

    rows = list_sessions(service, None)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no sessions for this folder")
    for row in [] if args.json else rows:
        title = shown(row["title"], multiline=False)
        print(f"{row['id']}  {row['turns']:>3} turns  {row['updated']}  {title}")
    return 0


async def _doctor(service: Any, settings: Any, args: Any) -> int:
    from claw_lsp.agent.doctor import run_doctor

    try:
        result = await run_doctor(settings, service.models, service.mcp)
    finally:
        await service.aclose()
        await service.models.close()
    print(json.dumps(result["report"], indent=2) if args.json else shown(result["text"]))
    return 0 if result["ok"] else 1


async def _ask(service: Any, args: Any) -> int:
    from claw_lsp.agent.plan_mode import accept_plan_prompt
    from claw_lsp.agent.turn import Prompt
    from claw_lsp.foundation.errors import ServiceError

    accepting = getattr(args, "accept_plan", False)
    if not args.prompt.strip() and not accepting:
        print("claw-lsp: the prompt is empty", file=sys.stderr)
        return 2
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: service.cancel() or (task and task.cancel()))
    try:
        if accepting:  # issue 18: the prompt, when given, is the user's edited plan
            edited = args.prompt if args.prompt.strip() else None
            prompt = accept_plan_prompt(service, None, args.session, edited)
        else:
            planning = getattr(args, "plan", False)
            prompt = Prompt(
                text=args.prompt, session=args.session, mode="plan" if planning else "ask"
            )
        result = await service.submit(prompt)
    except asyncio.CancelledError:
        say("\n[claw] cancelled")
        return 130
    except ServiceError as exc:
        say(f"claw-lsp: {exc}")
        return 1
    finally:
        await service.aclose()  # MCP servers stop with the command
        await service.models.close()
        if service.language is not None:
            await service.language.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        if result["stopReason"] == "local":
            print(shown(result["text"]))
        elif result["stopReason"] == "cancelled":
            say("\n[claw] cancelled")
        elif result["stopReason"] == "plan":
            print(f"\n{shown(result.get('plan', ''))}")
        elif result["stopReason"] == "error":
            say(f"\n[claw] {result['text'].splitlines()[-1]}")
        else:
            print()
    codes = {"done": 0, "local": 0, "maxTurns": 0, "plan": 0, "cancelled": 130}
    return codes.get(result["stopReason"], 1)
