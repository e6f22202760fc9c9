"""The classifier's verdict types, and judging where a shell command writes.

Each target is outside the workspace, refused (a file with more than one hard link, a path
that leaves its folder through a symlink), or protected by the one protected-path rule (the
scope's `protect`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from claw_lsp.permissions.shell_tables import Kind, PathScope, Risk
from claw_lsp.permissions.shell_writes import Writes


@dataclass
class WriteCheck:
    protected: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    targets: list[Path] = field(default_factory=list)  # real paths inside the workspace


def check_targets(paths: Sequence[tuple[Path, bool]], scope: PathScope) -> WriteCheck:
    """Judges every target: outside, refused (hard links, symlink escapes) or protected."""
    check = WriteCheck()
    seen: set[tuple[Path, bool]] = set()
    for lexical, follows in paths:
        if (lexical, follows) in seen:
            continue
        seen.add((lexical, follows))
        real = _real(lexical, follows)
        home_root = _root_of(lexical, scope.roots)
        real_root = _root_of(real, scope.roots)  # `real` is resolved already: compare as is
        if home_root is not None and home_root != real_root:
            check.refused.append(f"{lexical.name} leads through a symlink out of its folder")
            continue
        if real_root is None:
            check.outside.append(str(lexical))
            continue
        check.targets.append(real)
        links = _hard_links(real)
        if follows and links > 1:
            check.refused.append(f"{real.name} has {links} hard links (the other names may be "
                                 "outside the workspace)")  # fmt: skip
        reason = scope.protect(real, real_root) if scope.protect is not None else None
        if reason:
            check.protected.append(reason)
    return check


def _real(lexical: Path, follows: bool) -> Path:
    if follows or not os.path.islink(lexical):
        return _resolve(lexical)
    return _resolve(lexical.parent) / lexical.name


def _resolve(path: Path) -> Path:
    """Real path of the deepest existing ancestor with the missing tail appended."""
    missing: list[str] = []
    current = path
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current.name)
        current = current.parent
    real = Path(os.path.realpath(current))
    for part in reversed(missing):
        real = real / part
    return Path(os.path.normpath(real))


def _root_of(path: Path, roots: Sequence[Path]) -> Path | None:
    best: Path | None = None
    for root in roots:
        if (path == root or path.is_relative_to(root)) and (
            best is None or len(root.parts) > len(best.parts)
        ):
            best = root
    return best


def _hard_links(path: Path) -> int:
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return 0
    return status.st_nlink if not os.path.isdir(path) else 0


@dataclass(frozen=True)
class JudgedWrites:
    reasons: tuple[str, ...]
    outside: tuple[str, ...]
    protected: tuple[str, ...]
    refused: tuple[str, ...]
    targets: tuple[Path, ...]
    unknown: bool


def judge_writes(writes: Writes, scope: PathScope) -> JudgedWrites:
    """The write checks of one segment's targets, with the reasons that make it ask."""
    check = check_targets(writes.paths, scope)
    reasons = []
    if check.outside:
        reasons.append("writes outside the workspace")
    if writes.unknown and not writes.paths:
        reasons.append(writes.unknown[0])
    if check.protected or writes.protected:
        reasons.append("writes a protected path")
    if check.refused:
        reasons.append("write refused")
    return JudgedWrites(
        reasons=tuple(reasons),
        outside=tuple(check.outside),
        protected=tuple(dict.fromkeys([*writes.protected, *check.protected])),
        refused=tuple(dict.fromkeys(check.refused)),
        targets=tuple(check.targets),
        unknown=bool(writes.unknown),
    )


@dataclass(frozen=True)
class Segment:
    """One simple command of a chain or pipeline (nested ones come from $(..), bash -c, eval)."""

    argv: tuple[str, ...]  # words after quote removal; wrappers NOT stripped
    program: str  # basename of the effective program after unwrapping wrappers
    text: str  # source text of this segment
    risk: Risk
    reasons: tuple[str, ...]
    effective_argv: tuple[str, ...] = ()  # argv with wrappers (sudo, env, command...) removed
    kind: Kind = Kind.OTHER
    has_expansion: bool = False  # $VAR / ${..}: the runtime words are not known
    nested: bool = False
    outside_paths: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()  # why a write target is protected (per-change approval)
    refused: tuple[str, ...] = ()  # writes that are never allowed below unsafe
    write_targets: tuple[Path, ...] = ()  # real paths inside the workspace it writes
    unknown_writes: bool = False  # it may write where the check cannot see


@dataclass(frozen=True)
class ShellVerdict:
    command: str
    segments: tuple[Segment, ...]
    risk: Risk
    reasons: tuple[str, ...]
    parsed: bool
    has_substitution: bool
    has_redirection: bool
    outside_paths: tuple[str, ...]
    protected: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    write_targets: tuple[Path, ...] = ()

    @property
    def writes(self) -> bool:
        """It may change files (so the sandbox must be writable where the tier allows)."""
        return self.risk != Risk.READ_ONLY or bool(self.write_targets)


def writes_segment(writes: Writes, scope: PathScope) -> Segment:
    """The write checks of one segment's targets, as a Segment carrying only their results."""
    judged = judge_writes(writes, scope)
    return Segment(
        (),
        "",
        "",
        Risk.APPROVAL if judged.reasons else Risk.READ_ONLY,
        judged.reasons,
        outside_paths=judged.outside,
        protected=judged.protected,
        refused=judged.refused,
        write_targets=judged.targets,
        unknown_writes=judged.unknown,
    )
