"""Slash commands: handled locally, no model call, in `claw.ask` and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from claw_lsp.agent import operations
from claw_lsp.agent.service import AgentService, FolderState, ServiceError
from claw_lsp.context.compaction import snip_old_tool_results
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.context.turn_context import rules_context
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.permissions.tiers import TIER_DESCRIPTIONS
from claw_lsp.tools.registry import tier_needed

DEFAULT_CONTEXT_WINDOW = 32_768
_SLASH = re.compile(r"^/([A-Za-z][\w-]*)(?:\s+(.*))?$", re.DOTALL)
HELP = {
    "help": "this list",
    "context": "what the next request would contain, in tokens",
    "tools": "the tools and whether each can run now",
    "memory": "the instruction files loaded",
    "status": "backend, model, tier, session, usage",
    "model": "show or set the model: /model NAME",
    "permissions": "tier, approvals and session grants",
    "clear": "start a new session",
    "compact": "shrink the conversation now",
    "sessions": "this folder's sessions",
    "resume": "continue a session: /resume ID",
    "undo": "undo the last turn's edits",
    "export": "the session as Markdown",
}


def parse_slash(prompt: str) -> tuple[str, str] | None:
    """('name', 'args') for a slash command; None for ordinary prompts such as '/tmp/x fails'."""
    match = _SLASH.match(prompt.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


async def run_slash(
    service: AgentService, state: FolderState, name: str, args: str, session_hint: str | None = None
) -> tuple[str, str | None]:
    """Returns (text, session id)."""
    handler = _HANDLERS.get(name)
    if handler is None:
        names = " ".join(f"/{n}" for n in HELP)
        return f"Unknown command /{name}. Commands: {names}", None
    try:
        return await handler(service, state, args, session_hint)
    except ServiceError as exc:
        return f"/{name}: {exc}", None


async def _help(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    rows = [f"/{n:<12} {d}" for n, d in HELP.items()]
    return "Commands (handled locally, no model call):\n" + "\n".join(rows), None


def _session_id(service: AgentService, state: FolderState, hint: str | None) -> str | None:
    return hint if hint and hint != "new" else service.store.current(state.root.uri)


async def _context(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    settings = service.settings_for(state)
    tools = service.registry.schemas(settings.tier, settings.approvals)
    session_id = _session_id(service, state, hint)
    messages: list[dict[str, Any]] = []
    if session_id:
        _, session = service.find_session(session_id)
        messages = list(session.messages or [])
    rules = rules_context(state.root) if not messages else ""
    history_chars = sum(len(json.dumps(m)) for m in messages)
    rows = [
        ("system prompt", estimate_tokens(SYSTEM_PROMPT)),
        ("tool schemas", estimate_tokens(json.dumps(tools))),
        (
            "rules files (next turn)" if rules else "rules files (in history)",
            estimate_tokens(rules),
        ),
        ("history", max(0, history_chars // 4)),
    ]
    total = sum(n for _, n in rows)
    window = settings.context_window or DEFAULT_CONTEXT_WINDOW
    source = "configured" if settings.context_window else "default guess"
    lines = [f"{label:<26}{n:>8} tokens" for label, n in rows]
    usage = ""
    if session_id:
        _, session = service.find_session(session_id)
        if session.usage.prompt_tokens:
            usage = (
                f"\nBackend-reported usage this server run: {session.usage.prompt_tokens} "
                "prompt tokens"
            )
    return (
        "Context estimate (4 characters per token, +/- 25%):\n"
        + "\n".join(lines)
        + f"\n{'total':<26}{total:>8} tokens of a {window}-token window ({source}), "
        f"{100 * total // window}% used" + usage
    ), session_id


async def _tools(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
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
            now = "not available (approvals are off)"
        rows.append(f"{tool.name:<12} needs {needed.value:<9} {now}")
    return f"Tier: {settings.tier.value}\n" + "\n".join(rows), None


async def _memory(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    from claw_lsp.context.rules_files import discover_rules_files

    files = discover_rules_files(state.root.real_path)
    if not files:
        return "No instruction files (CLAUDE.md, AGENTS.md, ...) found.", None
    rows = [
        f"{f.scope:<8} {f.path} ({f.bytes} bytes{', truncated' if f.truncated else ''})"
        for f in files
    ]
    return "Instruction files loaded into the first message of a session:\n" + "\n".join(rows), None


async def _status(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    status = service.status(state.root.uri)
    backend = status["backend"]
    lines = [
        f"Folder:   {state.root.real_path}",
        f"Backend:  {backend.get('baseUrl') or 'not configured'}",
        f"Model:    {backend.get('model') or '(first model the backend lists)'}",
        f"Tier:     {status['tier']} (approvals: {status['approvals']}, "
        f"edits: {status['editMode']})",
        f"Session:  {status['session'] or 'none yet'}",
        "Sandbox:  "
        + (
            "bubblewrap"
            if status["sandbox"]["available"]
            else f"unavailable: {status['sandbox']['reason']}; every shell command needs approval"
        ),
    ]
    if backend.get("note"):
        lines.append(f"Note:     {backend['note']}")
    if backend.get("error"):
        lines.append(f"Problem:  {backend['error']}")
    session_id = status["session"]
    if session_id:
        _, session = service.find_session(session_id)
        usage = session.usage.to_wire()
        lines.append("Usage:    " + ", ".join(f"{k} {v}" for k, v in usage.items()))
    return "\n".join(lines), session_id


async def _model(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    if args:
        service.model_override = args.split()[0]
        return f"Model set to {service.model_override} for this server run.", None
    backend = service.status(state.root.uri)["backend"]
    return f"Model: {backend.get('model') or '(first model the backend lists)'}", None


async def _permissions(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    settings = service.settings_for(state)
    sandbox = probe_sandbox()
    lines = [
        f"Tier: {settings.tier.value}: {TIER_DESCRIPTIONS[settings.tier]}",
        f"Approvals: {settings.approvals}",
        "Sandbox: " + ("available" if sandbox.available else f"unavailable ({sandbox.reason})"),
    ]
    grants = sorted(k for s in state.sessions.values() for k in s.grants.keys)
    lines.append("Session grants: " + (", ".join(grants) if grants else "none"))
    rules = settings.permissions or {}
    for kind in ("deny", "ask", "allow"):
        if rules.get(kind):
            lines.append(f"Rules {kind}: " + ", ".join(map(str, rules[kind])))
    lines.append("Change the tier with claw.setTier (your editor's 'Set Permission Tier').")
    return "\n".join(lines), None


async def _clear(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    session = service.new_session(state)
    return f"Started a new session {session.id}.", session.id


async def _compact(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    session_id = _session_id(service, state, hint)
    if not session_id:
        return "No session to compact.", None
    _, session = service.find_session(session_id)
    messages = session.messages or []
    before = sum(len(json.dumps(m)) for m in messages)
    changed = snip_old_tool_results(messages)
    after = sum(len(json.dumps(m)) for m in messages)
    if changed:
        service.store.append(
            state.root.uri,
            session_id,
            [
                {
                    "type": "compaction",
                    "turn": session.turns,
                    "messages": messages,
                    "replaced": before - after,
                }
            ],
        )
    return (
        f"Compacted: {estimate_tokens('x' * before)} -> {estimate_tokens('x' * after)} tokens."
        if changed
        else "Nothing to compact yet."
    ), session_id


async def _sessions(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    rows = operations.list_sessions(service, state.root.uri)
    if not rows:
        return "No sessions yet in this folder.", None
    return "\n".join(
        f"{r['id']}  {r['turns']:>3} turns  {r['updated']}  {r['title']}" for r in rows[:50]
    ), None


async def _resume(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    if not args:
        return "Usage: /resume SESSION_ID (see /sessions)", None
    result = operations.resume_session(service, args.split()[0])
    return f"Resumed session {result['session']} ({result['turns']} turns).", result["session"]


async def _undo(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    result = await operations.undo_turn(service, _session_id(service, state, hint), None)
    return f"Undid turn {result['turn']} ({len(result['files'])} files).", result["session"]


async def _export(
    service: AgentService, state: FolderState, args: str, hint: str | None
) -> tuple[str, str | None]:
    session_id = _session_id(service, state, hint)
    if not session_id:
        return "No session to export.", None
    return operations.export_session(service, session_id)["markdown"], session_id


_HANDLERS: dict[str, Callable[..., Awaitable[tuple[str, str | None]]]] = {
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
