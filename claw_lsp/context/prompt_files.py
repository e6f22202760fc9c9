"""Prompt files users already keep for other agents: custom slash commands
(`.claude/commands/**/*.md`) and skills (`<dir>/SKILL.md`, the agentskills.io format).

Locations, user level first: `~/.claude/{commands,skills}` and
`$XDG_CONFIG_HOME/claw-lsp/{commands,skills}`; then the workspace folder's
`.claude/{commands,skills}` and `.claw/{commands,skills}`. Workspace files are repository
content: they are read without following links out of the folder, capped in size and count,
and nothing in them is authority over tiers, approvals, rules or the backend (the callers
enforce what their frontmatter may do).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from claw_lsp.context.rules_files import read_prefix

Scope = Literal["user", "workspace"]
MAX_FILE_BYTES = 64_000
MAX_FILES_PER_DIR = 200
MAX_DEPTH = 4
SKILL_FILE = "SKILL.md"
MAX_SKILL_EXTRA_FILES = 50


@dataclass(frozen=True)
class PromptFile:
    """One command or skill file: its frontmatter and its body."""

    name: str  # "review", or "frontend:review" for frontend/review.md
    scope: Scope
    path: Path
    metadata: Mapping[str, Any]
    body: str
    truncated: bool = False
    extra_files: tuple[Path, ...] = field(default=())  # skills: the other files of the skill

    def text(self, key: str) -> str:
        value = self.metadata.get(key)
        return " ".join(str(value).split())[:300] if isinstance(value, str | int | float) else ""


def user_dirs(kind: str, home: Path | None = None, xdg: Path | None = None) -> list[Path]:
    home = home if home is not None else Path.home()
    xdg = xdg if xdg is not None else Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [home / ".claude" / kind, xdg / "claw-lsp" / kind]


def workspace_dirs(kind: str, folder: Path) -> list[Path]:
    return [folder / ".claude" / kind, folder / ".claw" / kind]


def discover_commands(
    folder: Path | None, *, home: Path | None = None, xdg: Path | None = None
) -> list[PromptFile]:
    """Every command file, user level first; a later file never replaces an earlier name."""
    found: dict[str, PromptFile] = {}
    for scope, directory, confine in _locations("commands", folder, home, xdg):
        for path in _markdown_files(directory, confine):
            name = ":".join(path.relative_to(directory).with_suffix("").parts)
            if _valid_name(name) and name not in found:
                parsed = _parse(path, scope, name)
                if parsed is not None:
                    found[name] = parsed
    return list(found.values())


def discover_agent_files(
    folder: Path | None, *, home: Path | None = None, xdg: Path | None = None
) -> list[PromptFile]:
    """Subagent types (`agents/*.md`, issue 18), user level first; the first of a name wins."""
    found: dict[str, PromptFile] = {}
    for scope, directory, confine in _locations("agents", folder, home, xdg):
        for path in _markdown_files(directory, confine):
            parsed = _parse(path, scope, path.stem)
            if parsed is None:
                continue
            name = parsed.text("name") or path.stem
            if _valid_name(name) and ":" not in name and name not in found:
                found[name] = PromptFile(name, scope, path, parsed.metadata, parsed.body)
    return list(found.values())


def discover_skills(
    folder: Path | None, *, home: Path | None = None, xdg: Path | None = None
) -> list[PromptFile]:
    """Every skill (a directory holding SKILL.md), sorted by name, user level first on a clash."""
    found: dict[str, PromptFile] = {}
    for scope, directory, confine in _locations("skills", folder, home, xdg):
        for skill_dir in _subdirectories(directory, confine):
            path = skill_dir / SKILL_FILE
            if _inside(path, confine) is None:
                continue
            parsed = _parse(path, scope, skill_dir.name)
            if parsed is None:
                continue
            name = parsed.text("name") or skill_dir.name
            if not _valid_name(name) or name in found:
                continue
            extra = tuple(p for p in _all_files(skill_dir, confine) if p.name != SKILL_FILE)[
                :MAX_SKILL_EXTRA_FILES
            ]
            found[name] = PromptFile(
                name, scope, path, parsed.metadata, parsed.body, parsed.truncated, extra
            )
    return [found[name] for name in sorted(found)]


def _locations(
    kind: str, folder: Path | None, home: Path | None, xdg: Path | None
) -> Iterator[tuple[Scope, Path, Path | None]]:
    for directory in user_dirs(kind, home, xdg):
        yield "user", directory, None  # the user's own files: not confined
    if folder is not None:
        real = Path(os.path.realpath(folder))
        for directory in workspace_dirs(kind, real):
            yield "workspace", directory, real


def _valid_name(name: str) -> bool:
    return (
        bool(name)
        and len(name) <= 100
        and all(
            part and (part[0].isalpha()) and all(c.isalnum() or c in "-_." for c in part)
            for part in name.split(":")
        )
    )


def _inside(path: Path, confine: Path | None) -> Path | None:
    """The real path when it stays inside `confine` (None: anywhere), else None."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return None
    if confine is not None and not (real == confine or real.is_relative_to(confine)):
        return None
    return real


def _markdown_files(directory: Path, confine: Path | None) -> list[Path]:
    return [p for p in _all_files(directory, confine) if p.suffix == ".md"]


def _all_files(directory: Path, confine: Path | None) -> list[Path]:
    if not directory.is_dir() or _inside(directory, confine) is None:
        return []
    out: list[Path] = []
    base_depth = len(directory.parts)
    for current, dirs, files in os.walk(directory, followlinks=False):
        here = Path(current)
        if len(here.parts) - base_depth >= MAX_DEPTH:
            dirs[:] = []
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if _inside(path, confine) is not None and path.is_file():
                out.append(path)
            if len(out) >= MAX_FILES_PER_DIR:
                return out
    return out


def _subdirectories(directory: Path, confine: Path | None) -> list[Path]:
    if not directory.is_dir() or _inside(directory, confine) is None:
        return []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [
        Path(e.path)
        for e in entries[:MAX_FILES_PER_DIR]
        if e.is_dir(follow_symlinks=False) and _inside(Path(e.path), confine) is not None
    ]


def _parse(path: Path, scope: Scope, name: str) -> PromptFile | None:
    read = read_prefix(path, MAX_FILE_BYTES)
    if read is None:
        return None
    data, size = read
    text = data.decode("utf-8", "replace")
    metadata, body = split_frontmatter(text)
    return PromptFile(name, scope, path, metadata, body, truncated=size > len(data))


def split_frontmatter(text: str) -> tuple[Mapping[str, Any], str]:
    """YAML frontmatter (python-frontmatter, safe loading) and the body; a file whose
    frontmatter does not parse is all body, so nothing in it is taken as settings."""
    import frontmatter

    try:
        post = frontmatter.loads(text)
    except Exception:  # yaml errors of every kind: treat the file as plain Markdown
        return {}, text
    metadata = post.metadata if isinstance(post.metadata, dict) else {}
    return metadata, post.content


def budgeted_listing(entries: Sequence[tuple[str, str]], budget: int, more_hint: str) -> str:
    """`- name: description` lines (the model's list of skills or agent types) within `budget`
    characters; past it, one `- ... N more (<more_hint>)` line says how many were left out."""
    lines: list[str] = []
    used = 0
    for name, description in entries:
        line = f"- {name}: {description}" if description else f"- {name}"
        if used + len(line) > budget:
            lines.append(f"- ... {len(entries) - len(lines)} more ({more_hint})")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
