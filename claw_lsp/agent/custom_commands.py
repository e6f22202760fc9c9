"""Custom slash commands from Markdown files (`.claude/commands/**/*.md` and friends, see
context/prompt_files.py): `/name args` becomes a model turn whose prompt is the file's body
with `$ARGUMENTS` and `$1`..`$9` filled in.

Frontmatter: `description` and `argument-hint` are shown in /help, completion and pickers;
`model` overrides the model for that turn, from user-level files only; `allowed-tools` can only
narrow the tools the turn offers, never widen them or grant anything. A workspace file is
repository content: any other key (tier, approvals, permissions, baseUrl ...) is ignored.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from claw_lsp.context.prompt_files import PromptFile, discover_commands

_POSITIONAL = re.compile(r"\$([1-9])")
# Claude Code's tool names, and our own, to ours: a command written for Claude Code narrows
# the same way here. Unknown names narrow to nothing of theirs (they are not our tools).
_TOOL_NAMES = {
    "read": ("read_file",),
    "grep": ("grep",),
    "glob": ("glob",),
    "ls": ("list_dir",),
    "edit": ("edit_file", "apply_patch"),
    "multiedit": ("edit_file", "apply_patch"),
    "write": ("write_file",),
    "bash": ("shell",),
}
_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")


@dataclass(frozen=True)
class CustomCommand:
    name: str
    description: str
    argument_hint: str
    source: PromptFile
    model: str | None
    allowed_tools: frozenset[str] | None  # None: every tool the turn would offer

    @property
    def origin(self) -> str:
        return f"{self.source.scope}: {self.source.path}"


@dataclass(frozen=True)
class CommandExpansion:
    """What a custom command turns a prompt into."""

    name: str
    prompt: str
    model: str | None
    allowed_tools: frozenset[str] | None


def load_commands(
    folder: Path | None, builtin: Iterable[str]
) -> tuple[list[CustomCommand], list[str]]:
    """The folder's custom commands and notices about ignored ones (name clashes)."""
    reserved = set(builtin)
    commands: list[CustomCommand] = []
    notices: list[str] = []
    for file in discover_commands(folder):
        if file.name in reserved:
            notices.append(f"{file.path}: /{file.name} is a built-in command; the file is ignored")
            continue
        commands.append(_command(file))
    return commands, notices


def _command(file: PromptFile) -> CustomCommand:
    model = file.text("model") if file.scope == "user" else ""
    return CustomCommand(
        name=file.name,
        description=file.text("description") or _first_line(file.body),
        argument_hint=file.text("argument-hint"),
        source=file,
        model=model if model and _MODEL_NAME.match(model) else None,
        allowed_tools=_allowed_tools(file.metadata.get("allowed-tools")),
    )


def _first_line(body: str) -> str:
    for line in body.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()[:120]
    return ""


def _allowed_tools(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return frozenset()
    names: set[str] = set()
    for item in items:
        text = str(item).strip()
        base = text.split("(", 1)[0].strip()
        mapped = _TOOL_NAMES.get(base.lower())
        names.update(mapped if mapped else (base,))
    return frozenset(n for n in names if n)


def expand(command: CustomCommand, arguments: str) -> CommandExpansion:
    body = command.source.body
    try:
        positional = shlex.split(arguments)
    except ValueError:  # an unbalanced quote: plain words
        positional = arguments.split()
    text = body.replace("$ARGUMENTS", arguments)
    text = _POSITIONAL.sub(
        lambda m: positional[int(m.group(1)) - 1] if int(m.group(1)) <= len(positional) else "",
        text,
    )
    if arguments and "$ARGUMENTS" not in body and not _POSITIONAL.search(body):
        text = f"{text.rstrip()}\n\nARGUMENTS: {arguments}"
    return CommandExpansion(command.name, text.strip(), command.model, command.allowed_tools)
