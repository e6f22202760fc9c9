"""One simple command judged on its own: its risk, what it is, the paths it reads outside the
workspace, and every place it writes (see shell_writes.py). The tables are in shell_tables.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from claw_lsp.permissions.git_facts import describe_program_keys, repo_facts
from claw_lsp.permissions.shell_paths import (
    check_read_args,
    dynamic,
    expansion_reasons,
    is_outside,
    path_candidates,
    reader_reasons,
)
from claw_lsp.permissions.shell_tables import (
    GIT_ORDINARY,
    GIT_SAFE_GLOBAL_OPTIONS,
    NO_PATH_PROGRAMS,
    READ_PROGRAMS,
    SHELLS,
    SYSTEM_BIN_DIRS,
    WRAPPERS,
    WRAPPERS_WITH_LEADING_OPERAND,
    WRITE_PROGRAMS,
    Kind,
    PathScope,
    Risk,
    Word,
    banned_options,
    describe_git,
    describe_unknown,
    git_is_read_only,
    sed_problems,
)
from claw_lsp.permissions.shell_writes import Writes, program_writes

__all__ = [
    "SHELLS",
    "SYSTEM_BIN_DIRS",
    "WRAPPERS",
    "WRAPPERS_WITH_LEADING_OPERAND",
    "Kind",
    "PathScope",
    "ProgramVerdict",
    "Risk",
    "Word",
    "classify_program",
    "is_outside",
]

_MAX_CWDS = 32


@dataclass
class ProgramVerdict:
    risk: Risk
    kind: Kind
    reasons: list[str]
    outside: list[str]
    writes: Writes = field(default_factory=Writes)


def classify_program(
    program: str, args_with_program: list[Word], scope: PathScope
) -> ProgramVerdict:
    args = args_with_program[1:]
    texts = [w.text for w in args]
    if program == "git":
        return _classify_git(args, scope)
    if program == "cd":
        return _classify_cd(args, scope)
    writes = program_writes(program, args, scope) or Writes()
    if program in WRITE_PROGRAMS:
        reasons, outside = _check_write_args(args)
        return ProgramVerdict(Risk.ORDINARY, Kind.WRITE, reasons, outside, writes)
    if program in READ_PROGRAMS:
        reasons = banned_options(program, texts)
        if program == "sed":
            reasons += sed_problems(texts)
        if program == "uniq" and len([t for t in texts if not t.startswith("-")]) > 1:
            reasons.append("uniq writes its second operand")
        if program in NO_PATH_PROGRAMS:
            return ProgramVerdict(Risk.READ_ONLY, Kind.READ, reasons, [], writes)
        more, outside = check_read_args(args, scope)
        hidden, named = reader_reasons(program, args, scope)
        return ProgramVerdict(
            Risk.READ_ONLY, Kind.READ, reasons + more + hidden, outside + named, writes
        )
    kind, reason = describe_unknown(program)
    # Still report paths outside (curl -o ~/.bashrc) so rules and the user can see them.
    _, outside = check_read_args(args, scope)
    return ProgramVerdict(Risk.APPROVAL, kind, [reason], outside, writes)


def _classify_git(args: list[Word], scope: PathScope) -> ProgramVerdict:
    texts = [w.text for w in args]
    index = 0
    reasons: list[str] = []
    while index < len(texts) and texts[index].startswith("-"):
        if texts[index] not in GIT_SAFE_GLOBAL_OPTIONS:
            reasons.append(f"git {texts[index].split('=')[0]}")
        index += 1
    reasons += _repository_programs(scope)
    if index == len(texts):
        return ProgramVerdict(
            Risk.READ_ONLY if not reasons else Risk.APPROVAL, Kind.READ, reasons, []
        )
    sub, rest = texts[index], args[index + 1 :]
    rest_texts = [w.text for w in rest]
    if reasons and any(r.startswith("git -") for r in reasons):
        return ProgramVerdict(Risk.APPROVAL, Kind.CODE, reasons, [], _git_writes(sub, rest, scope))
    if git_is_read_only(sub, rest_texts):
        reasons += banned_options(f"git {sub}", rest_texts)
        more, outside = check_read_args(rest, scope)
        return ProgramVerdict(Risk.READ_ONLY, Kind.READ, reasons + more, outside)
    writes = _git_writes(sub, rest, scope)
    if sub in GIT_ORDINARY:
        more, outside = _check_write_args(rest)
        return ProgramVerdict(Risk.ORDINARY, Kind.WRITE, reasons + more, outside, writes)
    kind, reason = describe_git(sub)
    _, outside = check_read_args(rest, scope)
    return ProgramVerdict(Risk.APPROVAL, kind, [*reasons, reason], outside, writes)


def _repository_programs(scope: PathScope) -> list[str]:
    """Rule: git never runs a program the repository's own configuration names without asking."""
    if scope.cwds is None:
        return []  # judged without a folder (rule tests): there is no repository to ask
    reasons: list[str] = []
    for cwd in scope.cwds:
        facts = repo_facts(cwd, scope.roots)
        if facts.error:
            reasons.append(f"could not read the repository's git config ({facts.error})")
        elif facts.program_keys:
            reasons.append(describe_program_keys(facts.program_keys))
    return list(dict.fromkeys(reasons))


def _git_writes(sub: str, rest: list[Word], scope: PathScope) -> Writes:
    """A git subcommand that is not read-only writes the repository's git directory; some
    also write the work tree or a new repository elsewhere."""
    writes = Writes()
    for cwd in scope.cwds or []:
        git_dir = repo_facts(cwd, scope.roots).git_dir or cwd / ".git"
        writes.add(git_dir, follows=False)
        operands = [w.text for w in rest if not w.text.startswith("-")]
        if sub in ("init", "clone") and operands:
            destination = operands[-1] if sub == "init" or len(operands) > 1 else None
            if destination is None:
                name = operands[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
                destination = name or "."
            writes.add(cwd / destination / ".git", follows=False)
        elif sub == "config":
            _git_config_writes(rest, cwd, writes)
        elif sub == "worktree" and operands[:1] == ["add"] and len(operands) > 1:
            writes.add(cwd / operands[1], follows=False)
        elif sub not in GIT_ORDINARY:
            writes.unknown.append(f"git {sub} may change work tree files")
    return writes


def _git_config_writes(rest: list[Word], cwd: Path, writes: Writes) -> None:
    texts = [w.text for w in rest]
    if "--global" in texts:
        writes.add(Path.home() / ".gitconfig")
    if "--system" in texts:
        writes.add(Path("/etc/gitconfig"))
    for index, text in enumerate(texts):
        if text in ("-f", "--file") and index + 1 < len(texts):
            writes.add(cwd / texts[index + 1])
        elif text.startswith("--file="):
            writes.add(cwd / text.split("=", 1)[1])


def _classify_cd(args: list[Word], scope: PathScope) -> ProgramVerdict:
    operands = [w for w in args if w.text != "--"]
    if len(operands) != 1 or operands[0].expansion:
        return ProgramVerdict(Risk.APPROVAL, Kind.OTHER, ["cd without a plain relative target"], [])
    target = operands[0].text
    leaves = ProgramVerdict(Risk.APPROVAL, Kind.OTHER, ["cd leaves the workspace"], [])
    if target.startswith(("-", "~", "/")) or ".." in Path(target).parts or dynamic(target):
        leaves.outside = [target] if is_outside(target, scope) else []
        return leaves
    if is_outside(target, scope):
        leaves.outside = [target]
        return leaves
    if scope.cwds is not None:
        if len(scope.cwds) >= _MAX_CWDS:
            return ProgramVerdict(Risk.APPROVAL, Kind.OTHER, ["too many cd"], [])
        # cd may fail, so later words are judged from every directory the shell may be in.
        scope.cwds = list(dict.fromkeys([*scope.cwds, *(base / target for base in scope.cwds)]))
    return ProgramVerdict(Risk.READ_ONLY, Kind.READ, [], [])


def _check_write_args(args: list[Word]) -> tuple[list[str], list[str]]:
    """Word-level checks of a writer's arguments; where the writes land is judged later, on
    the expanded targets (shell_writes.check_targets)."""
    reasons: list[str] = []
    for word in args:
        reasons += expansion_reasons(word)
        for candidate in path_candidates(word.text):
            if candidate.startswith("~") or os.path.isabs(candidate):
                reasons.append("absolute or home path")
            elif os.path.normpath(candidate).startswith(".."):
                reasons.append("path escapes the working directory")
    return list(dict.fromkeys(reasons)), []
