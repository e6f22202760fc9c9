"""Slash commands: handled locally, in `claw.ask` and the CLI. None of them sends the prompt
to the model; only /compact asks the model for a summary (and falls back to a local digest
when the backend cannot give one)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from claw_lsp.agent import operations
from claw_lsp.agent.service import AgentService, FolderState, ServiceError, SessionState
from claw_lsp.context.breakdown import context_breakdown, render_breakdown
from claw_lsp.context.engine import TurnContext, compact_turn
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.context.rules_files import discover_rules_files, rules_file_label
from claw_lsp.context.tokens import ContextStats, resolve_window
from claw_lsp.context.turn_context import rules_context, sent_rules_labels
from claw_lsp.llm.base import BackendError, ChatModel
from claw_lsp.llm.toolcalls.detect import (
    FamilyGuess,
    TextDialect,
    describe_line,
    family_from_history,
)
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.permissions.tiers import TIER_DESCRIPTIONS
from claw_lsp.tools.registry import tier_needed

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
}
Reply = tuple[str, str | None]  # (text, session id)


def parse_slash(prompt: str) -> tuple[str, str] | None:
    """('name', 'args') for a slash command; None for ordinary prompts such as '/tmp/x fails'."""
    match = _SLASH.match(prompt.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


async def run_slash(
    service: AgentService, state: FolderState, name: str, args: str, session_hint: str | None = None
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


def _session(service: AgentService, state: FolderState, hint: str | None) -> SessionState | None:
    """The session a command is about: the one named in the ask, else the folder's current."""
    session_id = hint if hint and hint != "new" else service.store.current(state.root.uri)
    if not session_id:
        return None
    _, session = service.find_session(session_id)
    return session


async def _help(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    rows = [f"/{n:<12} {d}" for n, d in HELP.items()]
    return "Commands (handled locally, no prompt goes to the model):\n" + "\n".join(rows), None


async def _context(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    settings = service.settings_for(state)
    session = _session(service, state, hint)
    messages = list(session.messages or []) if session else []
    stats = session.context if session else ContextStats()
    pending = rules_context(state.root, already_sent=sent_rules_labels(messages))
    breakdown = context_breakdown(
        SYSTEM_PROMPT,
        service.registry.schemas(settings.tier, settings.approvals),
        messages,
        stats=stats,
        configured_window=settings.context_window,
        pending_rules=pending,
    )
    text = render_breakdown(
        breakdown, threshold=settings.compact_threshold, session=session.id if session else None
    )
    return text, session.id if session else None


async def _tools(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    settings = service.settings_for(state)
    advertised = service.registry.advertised_names(settings.tier, settings.approvals)
    rows = []
    for tool in service.registry.all():
        needed = tier_needed(tool)
        if settings.tier.allows(needed):
            now = "runs now"
        elif tool.name in advertised:
            now = "asks for approval"
        else:
            now = "not offered to the model (approvals are off)"
        rows.append(f"{tool.name:<12} needs {needed.value:<9} {now}")
    return f"Tier: {settings.tier.value}, approvals: {settings.approvals}\n" + "\n".join(rows), None


async def _memory(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
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


async def _status(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
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
    # Issue 15: the family text tool calls are read in (the model's, then this session's).
    dialect = TextDialect(
        FamilyGuess.from_dict(backend.get("toolFamily")),
        family_from_history((session.messages or []) if session else []),
    )
    lines.append(f"Calls:    text tool calls read as {describe_line(dialect.describe())}")
    for key, label in (("note", "Note"), ("error", "Problem")):
        if backend.get(key):
            lines.append(f"{label + ':':<10}{backend[key]}")
    if session:
        lines.append(f"Usage:    {_stored_usage(service, state, session)} (whole session)")
    return "\n".join(lines), session.id if session else None


def _stored_usage(service: AgentService, state: FolderState, session: SessionState) -> str:
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


async def _model(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    if args:
        name = args.split()[0]
        if not _MODEL_NAME.match(name):
            return f"/model: {name!r} is not a model name.", None
        service.model_override = name
        return f"Model set to {name} for this server run (all folders).", None
    backend = service.status(state.root.uri)["backend"]
    return f"Model: {backend.get('model') or '(first model the backend lists)'}", None


async def _permissions(
    service: AgentService, state: FolderState, args: str, hint: str | None
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


async def _clear(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    _refuse_while_running(state)
    session = service.new_session(state)
    return f"Started a new session {session.id}.", session.id


async def _compact(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
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
            tools=service.registry.schemas(settings.tier, settings.approvals),
        )
        compaction = await compact_turn(model, ctx, reason="manual")
    if compaction is None:
        return "Nothing to compact yet: the conversation is all recent messages.", session.id
    by = "the model" if compaction.by_model else "a local digest (the model gave no summary)"
    return (
        f"Compacted {compaction.replaced} earlier messages into a summary by {by}; "
        f"the conversation is now {len(session.messages)} messages. See /context."
    ), session.id


async def _sessions(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> Reply:
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


async def _resume(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    if not args:
        return "Usage: /resume SESSION_ID (see /sessions)", None
    _refuse_while_running(state)
    result = operations.resume_session(service, args.split()[0])
    return f"Resumed session {result['session']} ({result['turns']} turns).", result["session"]


async def _undo(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    _refuse_while_running(state)
    session = _session(service, state, hint)
    if session is None:
        return "Nothing to undo: no session in this folder yet.", None
    result = await operations.undo_turn(service, session.id, None)
    return f"Undid turn {result['turn']} ({len(result['files'])} files).", result["session"]


async def _export(service: AgentService, state: FolderState, args: str, hint: str | None) -> Reply:
    session = _session(service, state, hint)
    if session is None:
        return "No session to export.", None
    return operations.export_session(service, session.id)["markdown"], session.id


def _refuse_while_running(state: FolderState) -> None:
    if state.running is not None or state.lock.locked():
        raise ServiceError("a turn is running in this folder; wait for it or cancel it first")


_HANDLERS: dict[str, Callable[[AgentService, FolderState, str, str | None], Awaitable[Reply]]] = {
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
}


def command_names() -> list[str]:
    return list(HELP)
