"""The user message of a turn: changing context first, then the user's words. The system
prompt never changes, so everything that does lives here.

Instruction files are sent once per session. Which ones a session has already seen is read
from its own history (the `<instructions-file path=...>` frames in user messages), so the
answer survives restarts and compaction (which keeps those frames) without separate state.
A file appears in a later message when it becomes relevant: the active document moved into a
folder with its own CLAUDE.md, the agent read or edited files in such a folder, or the file
was created since the session started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from claw_lsp.context.rules_files import (
    NESTED_RULES_PREAMBLE,
    RulesFile,
    discover_rules_files,
    render_rules_message,
    rules_file_label,
)
from claw_lsp.permissions.paths import PathDenied, Root, Workspace

_SENT_FRAME = re.compile(r'<instructions-file path="([^"]*)" scope="')


def build_user_message(
    prompt: str,
    *,
    editor_context: str,
    root: Root,
    attachments: str = "",
    include_rules: bool = True,
    proposal_report: Sequence[str] = (),
    active_dir: Path | None = None,
    history: Sequence[Mapping[str, Any]] = (),
    worked_paths: Iterable[Path] = (),
    home: Path | None = None,
) -> dict[str, Any]:
    parts: list[str] = []
    if include_rules:
        rules = rules_context(
            root,
            active_dir,
            worked_paths=worked_paths,
            already_sent=sent_rules_labels(history),
            home=home,
        )
        if rules:
            parts.append(rules.rstrip("\n"))
    if proposal_report:
        parts.append(
            "<review>\nThe user reviewed your proposed edits:\n"
            + "\n".join(f"- {line}" for line in proposal_report)
            + "\n</review>"
        )
    if editor_context:
        parts.append(editor_context)
    if attachments:  # what the prompt's @-mentions attach (context/mentions.py)
        parts.append(attachments)
    parts.append(prompt)
    return {"role": "user", "content": "\n\n".join(parts)}


def rules_context(
    root: Root,
    active_dir: Path | None = None,
    *,
    worked_paths: Iterable[Path] = (),
    already_sent: frozenset[str] | set[str] = frozenset(),
    home: Path | None = None,
) -> str:
    """The instruction files that apply and were not sent yet, rendered; "" when none."""
    fresh = _fresh_files(root, active_dir, worked_paths, already_sent, home)
    return render_rules_message(fresh, root.real_path, home=home)


def nested_rules_message(
    root: Root,
    history: Sequence[Mapping[str, Any]],
    worked_paths: Iterable[Path],
    *,
    home: Path | None = None,
) -> dict[str, Any] | None:
    """A user-role message with the instruction files of subfolders the agent has just worked
    in, or None. Other new files (a CLAUDE.md created at the root since the session started)
    wait for the next turn's message, where the user sees them arrive with their prompt."""
    paths = [p for p in worked_paths if p.is_relative_to(root.real_path)]
    if not paths:
        return None
    fresh = _fresh_files(root, None, paths, sent_rules_labels(history), home)
    fresh = [f for f in fresh if f.scope in ("nested", "import")]
    if not fresh:
        return None
    text = render_rules_message(fresh, root.real_path, home=home, preamble=NESTED_RULES_PREAMBLE)
    return {"role": "user", "content": text}


# Names an instruction file goes by (rules_files._level_candidates); `.claude/...` paths too.
_RULES_NAMES = frozenset({"CLAUDE.md", "AGENTS.md", "CLAUDE.local.md"})


class NestedRulesWatch:
    """nested_rules_message, asked before every step of a turn, looks again only when the
    agent worked in a folder it had not worked in before, or read or wrote a file that could
    be an instruction file (issue 22): the search stats every candidate name in every worked
    folder and the history scan reads every user message, both growing with the session.
    A rules file created meanwhile by anything else (a shell command, the user) in a folder
    already worked in arrives with the next turn's user message, as a root-level one does."""

    def __init__(self, *, home: Path | None = None) -> None:
        self._home = home
        self._known: set[Path] = set()  # worked paths already looked at (a set test per step)
        self._folders: set[Path] = set()

    def message(
        self, root: Root, history: Sequence[Mapping[str, Any]], worked_paths: Iterable[Path]
    ) -> dict[str, Any] | None:
        paths = list(worked_paths)
        look = False
        for path in paths:
            if path in self._known:
                continue
            self._known.add(path)
            folder = path.parent
            if folder not in self._folders or path.name in _RULES_NAMES or ".claude" in path.parts:
                self._folders.add(folder)
                look = True
        if not look:
            return None
        return nested_rules_message(root, history, paths, home=self._home)


def _fresh_files(
    root: Root,
    active_dir: Path | None,
    worked_paths: Iterable[Path],
    already_sent: frozenset[str] | set[str],
    home: Path | None,
) -> list[RulesFile]:
    folder = root.real_path
    try:
        files = discover_rules_files(
            folder, active_dir=active_dir, home=home, extra_dirs=_folders_of(worked_paths)
        )
    except OSError:
        return []
    return [f for f in files if rules_file_label(f, folder, home=home) not in already_sent]


def sent_rules_labels(history: Sequence[Mapping[str, Any]]) -> set[str]:
    labels: set[str] = set()
    for message in history:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            labels.update(_SENT_FRAME.findall(content))
    return labels


def active_dir_for(workspace: Workspace, uri: str | None) -> Path | None:
    """The folder of the active document, when it lies inside an open workspace folder."""
    if not uri:
        return None
    try:
        return workspace.resolve_uri(uri).path.parent
    except (PathDenied, ValueError, OSError):
        return None


def _folders_of(paths: Iterable[Path]) -> list[Path]:
    return sorted({p.parent for p in paths}, key=str)
