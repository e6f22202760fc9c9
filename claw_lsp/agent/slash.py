"""Slash commands: `/name args` in `claw.ask`, the CLI and ACP prompts.

Built-in commands are handled locally: none sends the prompt to the model (only /compact asks
the model for a summary, with a local digest when it cannot). Custom commands from Markdown
files (agent/custom_commands.py) expand into the prompt of a model turn. A built-in name always
wins over a file of the same name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from claw_lsp.agent import plan_mode, slash_info, slash_session
from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.custom_commands import CommandExpansion, CustomCommand, expand, load_commands
from claw_lsp.agent.slash_base import Handler, Reply
from claw_lsp.agent.state import FolderState
from claw_lsp.context.prompt_files import discover_skills
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.mcp.status import render_status

# A command is one word after the slash (namespaced with ':'), then whitespace or the end:
# "/tmp/x is broken" and "/usr/bin/env" are prompts (paths), not commands.
_SLASH = re.compile(r"^/([A-Za-z][\w.-]*(?::[A-Za-z][\w.-]*)*)(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class McpExpansion:
    """A command that becomes the prompt of a model turn (an MCP server's prompt)."""

    text: str


@dataclass(frozen=True)
class Builtin:
    description: str
    handler: Handler
    argument_hint: str = ""


async def _help(core: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    entries = command_entries(core, state)
    width = max(12, *(len(e["name"]) + 1 for e in entries))
    rows = ["Commands (built-in ones are handled locally; no prompt goes to the model):"]
    for entry in entries:
        usage = f"/{entry['name']} {entry['argumentHint']}".rstrip()
        where = "" if entry["source"] == "built-in" else f"  [{entry['source']}: {entry['path']}]"
        rows.append(f"{usage:<{width + 8}} {entry['description']}{where}")
    _, notices = load_commands(state.root.real_path, BUILTINS)
    rows += [f"note: {n}" for n in notices]
    dynamic = [row for source in core.command_sources for row in await source.commands()]
    if dynamic:
        rows.append("\nMCP prompts (sent to the model as your prompt):")
        rows += [f"{usage}  {description}" for usage, description in dynamic]
    skills = discover_skills(state.root.real_path)
    if skills:
        rows.append("\nSkills (the model loads one with the skill tool when it fits; /skills):")
        rows += [f"  {s.name:<20} {s.text('description')}  [{s.scope}: {s.path}]" for s in skills]
    return "\n".join(rows), None


async def _skills(core: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    skills = discover_skills(state.root.real_path)
    if not skills:
        return (
            "No skills. Add a folder with a SKILL.md under .claude/skills/ or .claw/skills/ (this "
            "workspace), or ~/.claude/skills/ / $XDG_CONFIG_HOME/claw-lsp/skills/ (yours).",
            None,
        )
    rows = [f"{s.name:<20} {s.text('description')}\n{'':<20} {s.scope}: {s.path}" for s in skills]
    return "Skills (loaded by the model with the skill tool when it fits):\n" + "\n".join(
        rows
    ), None


async def _mcp(core: AgentCore, state: FolderState, args: str, hint: str | None) -> Reply:
    if args.strip() == "reset-project":
        folders = core.mcp.forget_project_decisions()
        if not folders:
            return "No answers about project MCP files were stored for this workspace.", None
        return (
            f"Forgot your answers about the project MCP files of {', '.join(folders)}: the next "
            "prompt asks again."
        ), None
    if args.strip():
        return "Usage: /mcp, or /mcp reset-project", None
    await core.mcp.ensure(force=True)
    return render_status(core.mcp), None


BUILTINS: dict[str, Builtin] = {
    "help": Builtin("this list", _help),
    "context": Builtin(
        "what the next request would contain, in tokens, and the window", slash_info.context_command
    ),
    "tools": Builtin("the tools and whether each can run now", slash_info.tools_command),
    "memory": Builtin(
        "the instruction files (CLAUDE.md, AGENTS.md, ...) with their paths",
        slash_info.memory_command,
    ),
    "status": Builtin("backend, model, tier, session, usage", slash_info.status_command),
    "model": Builtin(
        "show the model, or set it for this server run", slash_info.model_command, "[NAME]"
    ),
    "permissions": Builtin(
        "tier, approvals, rules and this session's grants", slash_info.permissions_command
    ),
    "clear": Builtin("start a new session", slash_session.clear_command),
    "compact": Builtin(
        "summarise the conversation now (asks the model for the summary)",
        slash_session.compact_command,
    ),
    "sessions": Builtin("this folder's sessions, newest first", slash_session.sessions_command),
    "resume": Builtin("continue a session", slash_session.resume_command, "ID"),
    "undo": Builtin("undo the last turn's edits", slash_session.undo_command),
    "export": Builtin("the session as Markdown", slash_session.export_command),
    "skills": Builtin("the skills the model can load", _skills),
    "mcp": Builtin("MCP servers: state, tool counts, last error", _mcp, "[reset-project]"),
    "todos": Builtin("the session's todo list", plan_mode.todos_command),
    "plan": Builtin(
        "plan first: read-only tools, then a plan to accept", plan_mode.plan_usage, "PROMPT"
    ),
}
HELP = {name: builtin.description for name, builtin in BUILTINS.items()}


def parse_slash(prompt: str) -> tuple[str, str] | None:
    """('name', 'args') for a slash command; None for ordinary prompts such as '/tmp/x fails'."""
    match = _SLASH.match(prompt.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


async def run_slash(
    core: AgentCore, state: FolderState, name: str, args: str, session_hint: str | None = None
) -> Reply | CommandExpansion | McpExpansion:
    """A built-in's (text, session id), or a custom command's or an MCP prompt's expansion
    into the prompt of a model turn."""
    builtin = BUILTINS.get(name)
    if builtin is None:
        custom = _custom(state, name)
        if custom is not None:
            return expand(custom, args)
        for source in core.command_sources:
            try:
                text = await source.expand(name, args)
            except ValueError as exc:  # a usage problem: shown to the user
                return str(exc), None
            if text is not None:
                return McpExpansion(text)
        names = " ".join(f"/{e['name']}" for e in command_entries(core, state))
        return f"Unknown command /{name}. Commands: {names} (see /help)", None
    try:
        return await builtin.handler(core, state, args, session_hint)
    except ServiceError as exc:
        return f"/{name}: {exc}", None


def _custom(state: FolderState, name: str) -> CustomCommand | None:
    commands, _ = load_commands(state.root.real_path, BUILTINS)
    return next((c for c in commands if c.name.lower() == name), None)


async def all_command_entries(core: AgentCore, state: FolderState) -> list[dict[str, Any]]:
    """command_entries plus the MCP servers' prompts (listing them starts the servers)."""
    entries = command_entries(core, state)
    for source in core.command_sources:
        for usage, description in await source.commands():
            name, _, hint = usage.lstrip("/").partition(" ")
            entries.append(
                {
                    "name": name,
                    "description": description,
                    "argumentHint": hint,
                    "source": "mcp",
                    "path": None,
                }
            )
    return entries


def command_entries(core: AgentCore, state: FolderState) -> list[dict[str, Any]]:
    """Every command of the folder, for /help, completion and the clients' pickers."""
    entries: list[dict[str, Any]] = [
        {
            "name": name,
            "description": builtin.description,
            "argumentHint": builtin.argument_hint,
            "source": "built-in",
            "path": None,
        }
        for name, builtin in BUILTINS.items()
    ]
    commands, _ = load_commands(state.root.real_path, BUILTINS)
    entries += [
        {
            "name": command.name,
            "description": command.description,
            "argumentHint": command.argument_hint,
            "source": command.source.scope,
            "path": str(command.source.path),
        }
        for command in commands
    ]
    return entries


def command_names() -> list[str]:
    return list(BUILTINS)
