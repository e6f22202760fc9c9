"""Slash commands that show state: /context, /tools, /memory, /status, /model, /permissions."""

from __future__ import annotations

import re

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.slash_base import Reply, session_about
from claw_lsp.agent.state import FolderState, SessionState
from claw_lsp.context.breakdown import context_breakdown, render_breakdown
from claw_lsp.context.mentions import attached_in
from claw_lsp.context.prompt import SYSTEM_PROMPT
from claw_lsp.context.rules_files import discover_rules_files, rules_file_label
from claw_lsp.context.tokens import ContextStats, resolve_window
from claw_lsp.context.turn_context import rules_context, sent_rules_labels
from claw_lsp.foundation.tiers import TIER_DESCRIPTIONS
from claw_lsp.llm.toolcalls.detect import (
    FamilyGuess,
    TextDialect,
    describe_line,
    family_from_history,
)
from claw_lsp.permissions.access import access_kind
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.permissions.sandbox import probe_sandbox

_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")


async def context_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    settings = service.settings_for(state)
    session = session_about(service, state, hint)
    messages = list(session.messages or []) if session else []
    stats = session.context if session else ContextStats()
    pending = rules_context(state.root, already_sent=sent_rules_labels(messages))
    breakdown = context_breakdown(
        SYSTEM_PROMPT,
        service.toolbox(state).definitions(
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
    attached = attached_in(messages)
    if attached:
        text += "\nAttached with @-mentions in this session:\n" + "\n".join(
            f"  @{name} ({kind})" for kind, name in attached
        )
    return text, session.id if session else None


async def tools_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    settings = service.settings_for(state)
    toolbox = service.toolbox(state)
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


async def memory_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    folder = state.root.real_path
    files = discover_rules_files(folder)
    if not files:
        return "No instruction files (CLAUDE.md, AGENTS.md, ...) found for this folder.", None
    session = session_about(service, state, hint)
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


async def status_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    status = service.status(state.root.uri)
    settings = service.settings_for(state)
    backend = status["backend"]
    session = session_about(service, state, hint)
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
    # The family text tool calls are read in (the model's, then this session's first call).
    dialect = TextDialect(
        FamilyGuess.from_dict(backend.get("toolFamily")),
        family_from_history(session.messages if session else []),
    )
    lines.append(f"Calls:    text tool calls read as {describe_line(dialect.describe())}")
    for key, label in (("note", "Note"), ("error", "Problem")):
        if backend.get(key):
            lines.append(f"{label + ':':<10}{backend[key]}")
    lines.extend(f"Settings: {warning}" for warning in settings.warnings)
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


async def model_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    if args:
        name = args.split()[0]
        if not _MODEL_NAME.match(name):
            return f"/model: {name!r} is not a model name.", None
        service.model_override = name
        return f"Model set to {name} for this server run (all folders).", None
    backend = service.status(state.root.uri)["backend"]
    return f"Model: {backend.get('model') or '(first model the backend lists)'}", None


async def permissions_command(
    service: AgentCore, state: FolderState, args: str, hint: str | None
) -> Reply:
    settings = service.settings_for(state)
    sandbox = probe_sandbox()
    lines = [
        f"Tier: {settings.tier.value}: {TIER_DESCRIPTIONS[settings.tier]}",
        f"Approvals: {settings.approvals}",
        "Sandbox: " + ("available" if sandbox.available else f"unavailable ({sandbox.reason})"),
    ]
    session = session_about(service, state, hint)
    grants = sorted(session.grants.keys) if session else []
    lines.append("Session grants: " + (", ".join(map(str, grants)) if grants else "none"))
    rules = settings.permissions or {}
    for kind in ("deny", "ask", "allow"):
        if rules.get(kind):
            lines.append(f"Rules {kind}: " + ", ".join(map(str, rules[kind])))
    lines.append("Change the tier with claw.setTier (your editor's 'Set Permission Tier').")
    return "\n".join(lines), session.id if session else None
