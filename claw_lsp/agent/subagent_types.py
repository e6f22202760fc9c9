"""Subagent types: the built-in `general` and `explore`, and the user's own from
`.claude/agents/*.md`, `.claw/agents/*.md` (the workspace's) and `~/.claude/agents/`,
`$XDG_CONFIG_HOME/claw-lsp/agents/` (the user's). Frontmatter: name, description, tools (our
names or Claude Code's: Read, Grep, Glob, LS, Edit, Write, Bash). A file can only narrow: its
tools are intersected with the parent's, and the tier is never above the parent's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claw_lsp.context.prompt_files import budgeted_listing, discover_agent_files

LIST_BUDGET_CHARS = 1_000
DESCRIPTION_CHARS = 120
INSTRUCTIONS_CAP_CHARS = 20_000
# Claude Code's tool names in agent files, so an existing file works as it is.
CLAUDE_TOOL_NAMES = {
    "read": "read_file",
    "grep": "grep",
    "glob": "glob",
    "ls": "list_dir",
    "write": "write_file",
    "edit": "edit_file",
    "multiedit": "edit_file",
    "bash": "shell",
    "todowrite": "todo_write",
    "task": "task",
}
GENERAL_PROMPT = (
    "You are a subagent: another agent delegated the task below to you. Work on it with your "
    "tools. You cannot ask questions. Your final message is all the other agent sees: make "
    "it a complete, concise report."
)
EXPLORE_PROMPT = (
    "You are an exploration subagent: another agent delegated the question below to you. Find "
    "the answer in the code with the read-only tools: search first (grep, glob), then read "
    "only the parts you need. Change nothing. Your final message is all the other agent sees: "
    "the answer, the relevant files with line numbers, and what you are unsure of."
)


@dataclass(frozen=True)
class AgentType:
    name: str
    description: str
    instructions: str
    tools: frozenset[str] | None = None  # None: whatever the child's tier offers
    read_only: bool = False  # always read-only, whatever the task call asks
    scope: str = "built-in"
    path: Path | None = None


BUILTIN_TYPES = (
    AgentType("general", "any self-contained task (the default)", GENERAL_PROMPT),
    AgentType(
        "explore",
        "read-only search of the code; reports files and lines",
        EXPLORE_PROMPT,
        read_only=True,
    ),
)


def agent_types(folder: Path | None) -> dict[str, AgentType]:
    """Built-ins first (a file cannot replace them), then the user's, then the workspace's."""
    types = {agent.name: agent for agent in BUILTIN_TYPES}
    for found in discover_agent_files(folder):
        if found.name in types:
            continue
        body = found.body.strip()[:INSTRUCTIONS_CAP_CHARS]
        types[found.name] = AgentType(
            name=found.name,
            description=found.text("description")[:DESCRIPTION_CHARS],
            instructions=body or GENERAL_PROMPT,
            tools=tool_names(found.metadata.get("tools")),
            scope=found.scope,
            path=found.path,
        )
    return types


def tool_names(raw: Any) -> frozenset[str] | None:
    """`tools: Read, Grep` or a YAML list; None when absent (no narrowing)."""
    if raw is None:
        return None
    items: Sequence[Any] = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, Sequence):
        return frozenset()  # malformed: narrow to nothing rather than guess
    names = set()
    for item in items:
        word = str(item).strip()
        if word:
            names.add(CLAUDE_TOOL_NAMES.get(word.lower(), word))
    return frozenset(names)


def listing(types: Mapping[str, AgentType]) -> str:
    """`- name: description` lines for the task tool's description, within the budget."""
    entries = [(agent.name, agent.description) for agent in types.values()]
    return budgeted_listing(entries, LIST_BUDGET_CHARS, "name one as agent")
