"""Slash commands: handled locally, in `claw.ask` and the CLI. None of them sends the prompt
to the model; only /compact asks the model for a summary (and falls back to a local digest
when the backend cannot give one)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from claw_lsp.agent import operations
from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.state import FolderState, ServiceError, SessionState
from claw_lsp.context.breakdown import context_breakdown, render_breakdown
from claw_lsp.context.engine import TurnContext, compact_turn
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.context.rules_files import discover_rules_files, rules_file_label
from claw_lsp.context.tokens import ContextStats, resolve_window
from claw_lsp.context.turn_context import rules_context, sent_rules_labels
from claw_lsp.foundation.tiers import TIER_DESCRIPTIONS
from claw_lsp.llm.base import BackendError, ChatModel
from claw_lsp.mcp.status import render_status
from claw_lsp.permissions.access import access_kind
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.permissions.sandbox import probe_sandbox

# A command is one word after the slash, then whitespace or the end: "/tmp/x is broken" and
# "/usr/bin/env" are prompts (paths), not commands.
_SLASH = re.compile(r"^/([A-Za-z][\w-]*)(?:\s+(.*))?$", re.DOTALL)
_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")
HELP = {
    "help": "this list",
    "context": "what the next request would contain, in tokens, and the window",
    "tools": "the tools and whether each can run now",
    "memory": "the instruction files (CLAUDE.md, AGENTS.md, ...) with their paths",
    "status": "backend, model, tier, session, usage",
    "model": "show the model, or set it for this server run: /model NAME",
    "permissions": "tier, approvals, rules and this session's grants",
    "clear": "start a new session",
    "compact": "summarise the conversation now (asks the model for the summary)",
    "sessions": "this folder's sessions, newest first",
    "resume": "continue a session: /resume ID",
    "undo": "undo the last turn's edits",
    "export": "the session as Markdown",
    "mcp": "MCP servers: state, tool counts, last error (/mcp reset-project: ask again)",
}
Reply = tuple[str, str | None]  # (text, session id)


@dataclass(frozen=True)
class Expansion:
    """A command that becomes the prompt of a model turn (an MCP prompt)."""

    text: str


def parse_slash(prompt: str) -> tuple[str, str] | None:
    """('name', 'args') for a slash command; None for ordinary prompts such as '/tmp/x fails'."""
    match = _SLASH.match(prompt.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


async def run_slash(
    service: AgentCore, state: FolderState, name: str, args: str, session_hint: str | None = None
) -> Reply:
    """Returns (text, session id)."""
    handler = _HANDLERS.get(name)
    if handler is None:
        names = " ".join(f"/{n}" for n in HELP)
        return f"Unknown command /{name}. Commands: {names} (see /help)", None
    try:
        return await handler(service, state, args, session_hint)
    except ServiceError as exc:
        return f"/{name}: {exc}", None


async def route_slash(
    service: AgentCore, state: FolderState, name: str, args: str, session_hint: str | None = None
) -> Reply | Expansion:
    """A built-in command's reply, or a dynamic command's expansion into a model turn."""
    if name not in _HANDLERS:
        for source in service.command_sources:
            try:
                text = await source.expand(name, args)
            except ValueError as exc:
                return str(exc), None
            if text is not None:
                return Expansion(text)
    return await run_slash(service, state, name, args, session_hint)


def _session(service: AgentCore, state: FolderState, hint: str | None) -> SessionState | None:
    """The session a command is about: the one named in the ask, else the folder's current."""
    return service.index.about(state, hint)


async def _help(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    rows = [f"/{n:<12} {d}" for n, d in HELP.items()]
    text = "Commands (handled locally, no prompt goes to the model):\n" + "\n".join(rows)
    dynamic = [row for source in service.command_sources for row in await source.commands()]
    if dynamic:
        text += "\nMCP prompts (sent to the model as your prompt):\n" + "\n".join(
            f"{usage}  {description}" for usage, description in dynamic
        )
    return text, None


async def _context(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    settings = service.settings_for(state)
    session = _session(service, state, hint)
    messages = list(session.messages or []) if session else []
    stats = session.context if session else ContextStats()
    pending = rules_context(state.root, already_sent=sent_rules_labels(messages))
    breakdown = context_breakdown(
        SYSTEM_PROMPT,
        service.toolbox().definitions(
            settings.tier,
            settings.approvals,
            PermissionRules.from_config(settings.permissions),
            session.loaded_tools if session else (),
        ),
        messages,
        stats=stats,
        configured_window=settings.context_window,
        pending_rules=pending,
    )
    text = render_breakdown(
        breakdown, threshold=settings.compact_threshold, session=session.id if session else None
    )
    return text, session.id if session else None


async def _tools(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    settings = service.settings_for(state)
    toolbox = service.toolbox()
    rules = PermissionRules.from_config(settings.permissions)
    advertised = {t.name for t in toolbox.offered(settings.tier, settings.approvals, rules)}
    rows = []
    for tool in toolbox.tools:
        kind = access_kind(tool.kind)
        if kind is None:
            rows.append(f"{tool.name:<12} never runs (unknown access kind {tool.kind!r})")
            continue
        needed = kind.auto_tier
        by_rule = kind.matcher == "tool" and rules.decide_tool(tool.name) == "allow"
        if settings.tier.allows(needed) or by_rule:
            now = "runs now" + (" (a permission rule allows it)" if by_rule else "")
        elif kind.matcher == "tool" and tool.trusted_read_only:
            now = "runs now (read-only tool of a trusted server)"
        elif tool.name in advertised:
            now = "asks for approval"
        else:
            now = "not offered to the model (approvals are off)"
        rows.append(f"{tool.name:<12} needs {needed.value:<9} {now}")
    return f"Tier: {settings.tier.value}, approvals: {settings.approvals}\n" + "\n".join(rows), None


async def _memory(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    folder = state.root.real_path
    files = discover_rules_files(folder)
    if not files:
        return "No instruction files (CLAUDE.md, AGENTS.md, ...) found for this folder.", None
    session = _session(service, state, hint)
    sent = sent_rules_labels(session.messages or []) if session else set()
    rows = []
    for file in files:
        status = "in this session" if rules_file_label(file, folder) in sent else "next message"
        cut = ", truncated" if file.truncated else ""
        rows.append(f"{file.scope:<8} {file.path} ({file.bytes} bytes{cut}; {status})")
    text = "\n".join(
        [
            "Instruction files (given to the model as context, never as system instructions):",
            *rows,
            "Files in subfolders are added when the agent works there.",
        ]
    )
    return text, session.id if session else None


async def _status(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    status = service.status(state.root.uri)
    settings = service.settings_for(state)
    backend = status["backend"]
    session = _session(service, state, hint)
    window = resolve_window(settings.context_window, session.context if session else None)
    lines = [
        f"Folder:   {state.root.real_path}",
        f"Backend:  {backend.get('baseUrl') or 'not configured'}",
        f"Model:    {backend.get('model') or '(first model the backend lists)'}",
        f"Tier:     {status['tier']} (approvals: {status['approvals']}, "
        f"edits: {status['editMode']})",
        f"Session:  {session.id if session else 'none yet'}",
        f"Window:   {window.tokens} tokens ({window.source})",
        "Sandbox:  "
        + (
            "bubblewrap"
            if status["sandbox"]["available"]
            else f"unavailable: {status['sandbox']['reason']}; every shell command needs approval"
        ),
    ]
    for key, label in (("note", "Note"), ("error", "Problem")):
        if backend.get(key):
            lines.append(f"{label + ':':<10}{backend[key]}")
    if session:
        lines.append(f"Usage:    {_stored_usage(service, state, session)} (whole session)")
    return "\n".join(lines), session.id if session else None


def _stored_usage(service: AgentCore, state: FolderState, session: SessionState) -> str:
    """Summed from the turn records, so it survives restarts."""
    loaded = service.store.load(state.root.uri, session.id)
    prompt = completion = turns = 0
    for record in loaded.records if loaded else []:
        usage = record.get("usage") if record.get("type") == "turn" else None
        if isinstance(usage, dict):
            turns += 1
            prompt += int(usage.get("promptTokens") or 0)
            completion += int(usage.get("completionTokens") or 0)
    return f"{turns} turns, {prompt} prompt + {completion} completion tokens"


async def _model(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    if args:
        name = args.split()[0]
        if not _MODEL_NAME.match(name):
            return f"/model: {name!r} is not a model name.", None
        service.model_override = name
        return f"Model set to {name} for this server run (all folders).", None
    backend = service.status(state.root.uri)["backend"]
    return f"Model: {backend.get('model') or '(first model the backend lists)'}", None


async def _permissions(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    settings = service.settings_for(state)
    sandbox = probe_sandbox()
    lines = [
        f"Tier: {settings.tier.value}: {TIER_DESCRIPTIONS[settings.tier]}",
        f"Approvals: {settings.approvals}",
        "Sandbox: " + ("available" if sandbox.available else f"unavailable ({sandbox.reason})"),
    ]
    session = _session(service, state, hint)
    grants = sorted(session.grants.keys) if session else []
    lines.append("Session grants: " + (", ".join(map(str, grants)) if grants else "none"))
    rules = settings.permissions or {}
    for kind in ("deny", "ask", "allow"):
        if rules.get(kind):
            lines.append(f"Rules {kind}: " + ", ".join(map(str, rules[kind])))
    lines.append("Change the tier with claw.setTier (your editor's 'Set Permission Tier').")
    return "\n".join(lines), session.id if session else None


async def _clear(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    _refuse_while_running(state)
    session = service.new_session(state)
    return f"Started a new session {session.id}.", session.id


async def _compact(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    _refuse_while_running(state)
    session = _session(service, state, hint)
    if session is None or not session.messages:
        return "Nothing to compact yet.", session.id if session else None
    settings = service.settings_for(state)
    model: ChatModel | None
    try:
        model = await service.models.get(settings)
    except BackendError:
        model = None  # the local digest still shrinks the history
    async with state.lock:
        ctx = TurnContext(
            settings=settings,
            stats=session.context,
            messages=session.messages,
            root=state.root,
            turn=session.turns,
            record_message=lambda message: None,
            record_compaction=lambda r: service.store.append(state.root.uri, session.id, [r]),
            system_prompt=SYSTEM_PROMPT,
            tools=service.toolbox().definitions(
                settings.tier,
                settings.approvals,
                PermissionRules.from_config(settings.permissions),
                session.loaded_tools,
            ),
        )
        compaction = await compact_turn(model, ctx, reason="manual")
    if compaction is None:
        return "Nothing to compact yet: the conversation is all recent messages.", session.id
    by = "the model" if compaction.by_model else "a local digest (the model gave no summary)"
    return (
        f"Compacted {compaction.replaced} earlier messages into a summary by {by}; "
        f"the conversation is now {len(session.messages)} messages. See /context."
    ), session.id


async def _sessions(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    rows = operations.list_sessions(service, state.root.uri)
    if not rows:
        return "No sessions yet in this folder.", None
    current = service.store.current(state.root.uri)
    lines = [
        f"{'*' if r['id'] == current else ' '} {r['id']}  {r['turns']:>3} turns  "
        f"{r['updated'][:19]}  {r['title'] or '(untitled)'}"
        for r in rows[:50]
    ]
    more = f"\n({len(rows) - 50} older sessions not shown)" if len(rows) > 50 else ""
    return "\n".join(lines) + more + "\n(* current; /resume ID to switch)", None


async def _resume(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    if not args:
        return "Usage: /resume SESSION_ID (see /sessions)", None
    _refuse_while_running(state)
    result = operations.resume_session(service, args.split()[0])
    return f"Resumed session {result['session']} ({result['turns']} turns).", result["session"]


async def _undo(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    _refuse_while_running(state)
    session = _session(service, state, hint)
    if session is None:
        return "Nothing to undo: no session in this folder yet.", None
    result = await operations.undo_turn(service, session.id, None)
    return f"Undid turn {result['turn']} ({len(result['files'])} files).", result["session"]


async def _export(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    session = _session(service, state, hint)
    if session is None:
        return "No session to export.", None
    return operations.export_session(service, session.id)["markdown"], session.id


async def _mcp(service: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    if args.strip() == "reset-project":
        folders = service.mcp.forget_project_decisions()
        if not folders:
            return "No answers about project MCP files were stored for this workspace.", None
        return (
            f"Forgot your answers about the project MCP files of {', '.join(folders)}: the next "
            "prompt asks again."
        ), None
    if args.strip():
        return "Usage: /mcp, or /mcp reset-project", None
    await service.mcp.ensure(force=True)
    return render_status(service.mcp), None


def _refuse_while_running(state: FolderState) -> None:
    if state.running is not None or state.lock.locked():
        raise ServiceError("a turn is running in this folder; wait for it or cancel it first")


_HANDLERS: dict[str, Callable[[AgentCore, FolderState, str, str | None], Awaitable[Reply]]] = {
    "help": _help,
    "context": _context,
    "tools": _tools,
    "memory": _memory,
    "status": _status,
    "model": _model,
    "permissions": _permissions,
    "clear": _clear,
    "compact": _compact,
    "sessions": _sessions,
    "resume": _resume,
    "undo": _undo,
    "export": _export,
    "mcp": _mcp,
}


def command_names() -> list[str]:
    return list(HELP)
