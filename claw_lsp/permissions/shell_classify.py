"""Allow-by-parse classification of shell commands.

This is defence in depth, not the security boundary (the bubblewrap sandbox is). A command is
READ_ONLY or ORDINARY only when bashlex parses it and *every* simple command in it is on a short
known list, with the dangerous flags of that program carved out and every path argument inside
the workspace. Anything the parser or the tables do not positively recognise is APPROVAL, so new
spellings of dangerous commands fail closed instead of slipping past a denylist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from claw_lsp.permissions.shell_paths import expand_word
from claw_lsp.permissions.shell_programs import (
    SHELLS,
    SYSTEM_BIN_DIRS,
    WRAPPERS,
    WRAPPERS_WITH_LEADING_OPERAND,
    Kind,
    PathScope,
    Risk,
    Word,
    classify_program,
    is_outside,
)
from claw_lsp.permissions.shell_targets import Segment, ShellVerdict, writes_segment
from claw_lsp.permissions.shell_writes import Writes

Protect = Callable[[Path, Path], "str | None"]


_MAX_COMMAND_CHARS = 100_000
_MAX_NESTING = 4
# bashlex does not implement these quotings; bash and bashlex would disagree on the words.
_UNSUPPORTED_SYNTAX = ("$'", '$"', "\x00")


@dataclass
class _Context:
    source: str
    scope: PathScope
    segments: list[Segment] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    has_substitution: bool = False
    has_redirection: bool = False
    forced_approval: bool = False  # a whole-command feature (e.g. a redirect on `{ ..; }`)
    depth: int = 0
    loose_writes: Writes = field(default_factory=Writes)  # redirects of compound commands

    def note(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def classify(
    command: str,
    *,
    cwd: Path | None = None,
    workspace_roots: Sequence[Path] = (),
    protect: Protect | None = None,
) -> ShellVerdict:
    """`protect(real_path, root)` says why a write target is protected; by default the
    protected-path rule without the user's own additions (paths.protected_path_reason)."""
    roots = tuple(Path(os.path.realpath(r)) for r in workspace_roots)
    if not roots and cwd is not None:
        roots = (Path(os.path.realpath(cwd)),)
    cwds = [Path(os.path.realpath(cwd))] if cwd is not None else None
    if protect is None:
        from claw_lsp.permissions.paths import protected_path_reason

        guards: dict[Path, tuple[Path, ...]] = {}

        def protect(path: Path, root: Path) -> str | None:
            return protected_path_reason(path, root, roots, cache=guards)

    ctx = _Context(source=command, scope=PathScope(roots, cwds, protect))
    if not command.strip():
        return _verdict(command, ctx, parsed=True, extra=("empty command",))
    if len(command) > _MAX_COMMAND_CHARS or any(s in command for s in _UNSUPPORTED_SYNTAX):
        return _verdict(command, ctx, parsed=False, extra=("could not parse",))
    if not _parse_into(command, ctx):
        return _verdict(command, ctx, parsed=False, extra=("could not parse",))
    return _verdict(command, ctx, parsed=True)


def _verdict(
    command: str, ctx: _Context, *, parsed: bool, extra: tuple[str, ...] = ()
) -> ShellVerdict:
    for reason in extra:
        ctx.note(reason)
    risk = max((s.risk for s in ctx.segments), key=lambda r: r.rank, default=Risk.READ_ONLY)
    if extra or ctx.has_substitution or ctx.has_redirection or ctx.outside or not parsed:
        risk = Risk.APPROVAL
    if ctx.forced_approval:
        risk = Risk.APPROVAL
    loose = writes_segment(ctx.loose_writes, ctx.scope)
    if loose.outside_paths or loose.protected or loose.refused:
        risk = Risk.APPROVAL
    reasons = list(ctx.reasons)
    for segment in ctx.segments:
        reasons.extend(r for r in segment.reasons if r not in reasons)
    protected = [*loose.protected, *(p for s in ctx.segments for p in s.protected)]
    refused = [*loose.refused, *(r for s in ctx.segments for r in s.refused)]
    targets = [*loose.write_targets, *(t for s in ctx.segments for t in s.write_targets)]
    return ShellVerdict(
        command=command,
        segments=tuple(ctx.segments),
        risk=risk,
        reasons=tuple(reasons),
        parsed=parsed,
        has_substitution=ctx.has_substitution,
        has_redirection=ctx.has_redirection,
        outside_paths=tuple(dict.fromkeys([*ctx.outside, *loose.outside_paths])),
        protected=tuple(dict.fromkeys(protected)),
        refused=tuple(dict.fromkeys(refused)),
        write_targets=tuple(dict.fromkeys(targets)),
    )


def _parse_into(source: str, ctx: _Context, *, nested: bool = False) -> bool:
    # Imported here, outside the try: ~100 ms that the server start does not need, and a
    # missing package must fail loudly rather than read as "could not parse".
    import bashlex

    try:
        trees = bashlex.parse(source)
        for tree in trees:
            _walk(tree, source, ctx, nested)
    except Exception:
        # bashlex raises ParsingError, NotImplementedError and assorted internal errors; any
        # of them means we do not understand the command, which is a verdict, not a crash.
        return False
    return True


def _walk(node: Any, source: str, ctx: _Context, nested: bool) -> None:
    kind = node.kind
    if kind == "command":
        _visit_command(node, source, ctx, nested)
    elif kind in ("list", "pipeline", "if", "for", "while", "until"):
        for part in node.parts:
            _walk(part, source, ctx, nested)
    elif kind == "compound":
        for part in node.list:
            _walk(part, source, ctx, nested)
        for redirect in getattr(node, "redirects", []) or []:
            for reason in _check_redirect(redirect, ctx):
                ctx.note(reason)
                ctx.forced_approval = True
    elif kind == "function":
        ctx.note("function definition")
        ctx.segments.append(_approval_segment(node, source, "function definition", nested))
        _walk(node.body, source, ctx, nested)
    elif kind == "word":  # e.g. the words of a for loop
        _scan_word(node, source, ctx)
    elif kind in ("operator", "pipe", "reservedword"):
        return
    else:
        raise NotImplementedError(f"unhandled shell node {kind}")


def _approval_segment(node: Any, source: str, reason: str, nested: bool) -> Segment:
    text = source[node.pos[0] : node.pos[1]]
    return Segment((), "", text, Risk.APPROVAL, (reason,), nested=nested)


def _scan_word(node: Any, source: str, ctx: _Context) -> Word:
    """Quote-removed text of a word; records substitutions and walks their commands."""
    expansion = False
    for part in getattr(node, "parts", None) or []:
        if part.kind in ("commandsubstitution", "processsubstitution"):
            ctx.has_substitution = True
            label = "process" if part.kind == "processsubstitution" else "command"
            ctx.note(f"{label} substitution")
            _walk(part.command, source, ctx, nested=True)
        elif part.kind == "parameter":
            expansion = True
            value = getattr(part, "value", "") or ""
            if any(marker in value for marker in ("$(", "`", "<(", ">(")):
                ctx.has_substitution = True
                ctx.note("command substitution")
        elif part.kind == "tilde":
            pass  # tilde words are judged by their text, which starts with "~"
        else:
            _scan_word(part, source, ctx)
    return Word(node.word, expansion)


_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})


def _check_redirect(node: Any, ctx: _Context, writes: Writes | None = None) -> list[str]:
    """Returns reasons that make the segment need approval; records file redirections (their
    targets go to `writes`, the segment's, or the whole command's)."""
    reasons: list[str] = []
    heredoc = getattr(node, "heredoc", None)
    if heredoc is not None:
        body = heredoc.value or ""
        if "`" in body or "$(" in body:
            ctx.has_substitution = True
            ctx.note("command substitution")
        elif "$" in body:
            reasons.append("expansion in here-document")
        return reasons
    target = node.output
    if isinstance(target, int) or node.type == "<<<":
        if not isinstance(target, int):
            word = _scan_word(target, ctx.source, ctx)
            if word.expansion:
                reasons.append("variable expansion")
        return reasons
    word = _scan_word(target, ctx.source, ctx)
    if node.type == "<":
        if word.expansion:
            reasons.append("variable expansion")
        outside = is_outside(word.text, ctx.scope)
        if outside:
            ctx.outside.append(word.text)
            reasons.append("reads outside the workspace")
        return reasons
    if word.text in _SAFE_SINKS and not word.expansion:
        return reasons
    ctx.has_redirection = True
    ctx.note("redirect to file")
    if is_outside(word.text, ctx.scope):
        ctx.outside.append(word.text)
    sink = writes if writes is not None else ctx.loose_writes
    for base in ctx.scope.cwds or []:
        for variant in expand_word(word.text, base):
            sink.add(base / variant, follows=True)
    return reasons


def _visit_command(node: Any, source: str, ctx: _Context, nested: bool) -> None:
    text = source[node.pos[0] : node.pos[1]]
    words: list[Word] = []
    reasons: list[str] = []
    redirected = Writes()
    has_assignment = False
    for part in node.parts:
        if part.kind == "word":
            words.append(_scan_word(part, source, ctx))
        elif part.kind == "assignment":
            has_assignment = True
            _scan_word(part, source, ctx)
        elif part.kind == "redirect":
            reasons.extend(_check_redirect(part, ctx, redirected))
    if has_assignment:
        reasons.append("variable assignment")
    argv = tuple(w.text for w in words)
    has_expansion = any(w.expansion for w in words)
    if not words:
        reasons.append("redirection only" if not has_assignment else "variable assignment")
        judged = writes_segment(redirected, ctx.scope)
        ctx.segments.append(
            replace(
                judged,
                argv=argv,
                text=text,
                risk=Risk.APPROVAL,
                nested=nested,
                reasons=tuple(dict.fromkeys([*reasons, *judged.reasons])),
            )
        )
        return
    effective, wrapped = _unwrap(list(words), ctx)
    program = os.path.basename(effective[0].text) if effective else ""
    verdict = classify_program(program, effective, ctx.scope)
    risk, kind = verdict.risk, verdict.kind
    reasons.extend(verdict.reasons)
    if wrapped:
        kind = Kind.CODE
        reasons.append(f"wrapper: {os.path.basename(words[0].text)}")
    if effective and "/" in effective[0].text:
        parent = os.path.dirname(effective[0].text)
        if parent not in SYSTEM_BIN_DIRS:
            reasons.append("program run by path")
    if effective and effective[0].expansion:
        reasons.append("dynamic command name")
    verdict.writes.paths += redirected.paths
    judged = writes_segment(verdict.writes, ctx.scope)
    reasons.extend(judged.reasons)
    if reasons:
        risk = Risk.APPROVAL
    outside_paths = [*verdict.outside, *judged.outside_paths]
    ctx.outside.extend(outside_paths)
    ctx.segments.append(
        replace(
            judged,
            argv=argv,
            program=program,
            text=text,
            risk=risk,
            reasons=tuple(dict.fromkeys(reasons)),
            effective_argv=tuple(w.text for w in effective),
            kind=kind,
            has_expansion=has_expansion,
            nested=nested,
            outside_paths=tuple(dict.fromkeys(outside_paths)),
        )
    )


def _unwrap(words: list[Word], ctx: _Context) -> tuple[list[Word], bool]:
    """Strips wrapper programs (sudo, env, nohup...) and parses `bash -c` / `eval` scripts."""
    wrapped = False
    for _ in range(8):
        if not words:
            break
        name = os.path.basename(words[0].text)
        if name in SHELLS:
            _parse_inline_script(words[1:], ctx, flag="c")
            break
        if name == "eval":
            script = " ".join(w.text for w in words[1:])
            _parse_nested(script, ctx)
            return [Word(text) for text in script.split()], True
        takes_value = WRAPPERS.get(name)
        if takes_value is None:
            break
        wrapped = True
        rest = words[1:]
        while rest and (rest[0].text.startswith("-") or (name == "env" and "=" in rest[0].text)):
            option = rest.pop(0).text
            if option == "--":
                break
            if name == "env" and option in ("-S", "--split-string") and rest:
                _parse_nested(rest[0].text, ctx)
            if option in takes_value and rest:
                rest.pop(0)
        if name in WRAPPERS_WITH_LEADING_OPERAND and rest:
            rest.pop(0)  # timeout DURATION, flock FILE, ...
        words = rest
    return words, wrapped


def _parse_inline_script(args: list[Word], ctx: _Context, flag: str) -> None:
    for index, word in enumerate(args):
        text = word.text
        if text.startswith("-") and not text.startswith("--") and flag in text[1:]:
            if index + 1 < len(args):
                _parse_nested(args[index + 1].text, ctx)
            return


def _parse_nested(script: str, ctx: _Context) -> None:
    if ctx.depth >= _MAX_NESTING or any(s in script for s in _UNSUPPORTED_SYNTAX):
        ctx.note("could not parse nested script")
        return
    inner = _Context(source=script, scope=ctx.scope, depth=ctx.depth + 1)
    if not _parse_into(script, inner, nested=True):
        ctx.note("could not parse nested script")
    ctx.segments.extend(inner.segments)
    ctx.outside.extend(inner.outside)
    ctx.has_substitution |= inner.has_substitution
    ctx.has_redirection |= inner.has_redirection
    ctx.forced_approval |= inner.forced_approval
    for reason in inner.reasons:
        ctx.note(reason)


__all__ = ["Kind", "Risk", "Segment", "ShellVerdict", "classify"]
