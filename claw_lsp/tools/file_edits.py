"""write_file, edit_file and apply_patch. They compute the new text against what the editor
has and hand a FileChange to the applier; they never write to disk themselves."""

from __future__ import annotations

import io
from typing import Any

from pydantic import Field

from claw_lsp.edits.applier import ChangeRejected
from claw_lsp.edits.filetext import adopt_newlines
from claw_lsp.foundation.ports import FileChange
from claw_lsp.permissions.paths import ResolvedPath
from claw_lsp.tools.base import (
    Access,
    ReadFile,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolOutput,
    define_tool,
    digest,
)

VERSION_CONFLICT_RETRIES = 2


def _current(ctx: ToolContext, target: ResolvedPath) -> ReadFile | None:
    if ctx.editor.snapshot(target.path) is None and not target.path.exists():
        return None
    return ctx.read_text(target)


async def submit(
    ctx: ToolContext, tool: str, target: ResolvedPath, current: ReadFile | None, after: str
) -> str:
    if current is not None and current.meta is not None:
        after = adopt_newlines(after, current.meta)
    change = FileChange(
        path=target.path,
        uri=target.uri,
        before=current.text if current else None,
        after=after,
        version=current.version if current else None,
        label=f"claw: {tool} {target.relative}",
        bom=bool(current and current.meta and current.meta.bom),
    )
    try:
        message = await ctx.applier.submit(change, target.relative)
    except ChangeRejected as exc:
        raise ToolError(str(exc)) from None
    ctx.remember_read(target, after)
    return message


class WriteFileArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace folder")
    content: str = Field(description="The complete new content of the file")


def plan_write_file(args: WriteFileArgs, ctx: ToolContext) -> Access:
    return Access("write", paths=(ctx.resolve(args.path),))


async def run_write_file(args: WriteFileArgs, ctx: ToolContext) -> ToolOutput:
    target = ctx.resolve(args.path)
    if target.path.is_dir():
        raise ToolError(f"{target.relative} is a directory")
    current = _current(ctx, target)
    if current is not None:
        _require_fresh_read(ctx, target, current)
        if current.text == args.content:
            return ToolOutput(
                f"{target.relative} already has this content.", f"{target.relative} unchanged"
            )
    message = await submit(ctx, "write_file", target, current, args.content)
    return ToolOutput(message, message)


class EditFileArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace folder")
    old_text: str = Field(description="Exact text to replace (include enough context to be unique)")
    new_text: str = Field(description="Replacement text")
    replace_all: bool = Field(default=False, description="Replace every occurrence")


def plan_edit_file(args: EditFileArgs, ctx: ToolContext) -> Access:
    return Access("write", paths=(ctx.resolve(args.path),))


async def run_edit_file(args: EditFileArgs, ctx: ToolContext) -> ToolOutput:
    target = ctx.resolve(args.path)
    if not args.old_text:
        raise ToolError("old_text is empty; use write_file to create or replace a file")
    if args.old_text == args.new_text:
        raise ToolError("old_text and new_text are identical; nothing to change")
    for attempt in range(VERSION_CONFLICT_RETRIES + 1):
        current = _current(ctx, target)
        if current is None:
            raise ToolError(f"{target.relative} does not exist")
        if attempt == 0:
            _require_fresh_read(ctx, target, current)
        after = replace_exact(
            current.text, args.old_text, args.new_text, args.replace_all, target.relative
        )
        try:
            message = await submit(ctx, "edit_file", target, current, after)
        except ToolError as exc:
            # The user typed between our read and the editor applying: recompute once more
            # against the new buffer, but only if old_text still matches it.
            if "rejected the edit" in str(exc) and attempt < VERSION_CONFLICT_RETRIES:
                continue
            raise
        return ToolOutput(message, message)
    raise ToolError(f"{target.relative} keeps changing; read it again")


def replace_exact(text: str, old: str, new: str, replace_all: bool, label: str) -> str:
    count = text.count(old)
    if count == 0 and "\r\n" in text and "\r\n" not in old:
        # The model writes \n; the file uses CRLF.
        old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        count = text.count(old)
    if count == 0:
        raise ToolError(
            f"old_text was not found in {label}; read the file and copy the exact "
            "text (whitespace included)"
        )
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_text matches {count} places in {label}; add surrounding lines to "
            "make it unique, or set replace_all"
        )
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


def _require_fresh_read(ctx: ToolContext, target: ResolvedPath, current: ReadFile) -> None:
    """Edits need a read first (or an open buffer the user sees), and the file must not have
    changed behind our back since (formatter, git checkout, another agent)."""
    if current.from_editor:
        return
    seen = ctx.read_hashes.get(target.path)
    if seen is None:
        raise ToolError(f"{target.relative} has not been read yet; read_file it first")
    if seen != digest(current.text):
        raise ToolError(f"{target.relative} was modified since it was read; read it again")


class ApplyPatchArgs(ToolArgs):
    patch: str = Field(description="A unified diff (---/+++ headers, @@ hunks); paths relative")


def plan_apply_patch(args: ApplyPatchArgs, ctx: ToolContext) -> Access:
    return Access("write", paths=tuple(ctx.resolve(p) for p, _ in _parse_patch(args.patch)))


async def run_apply_patch(args: ApplyPatchArgs, ctx: ToolContext) -> ToolOutput:
    planned: list[tuple[ResolvedPath, ReadFile | None, str]] = []
    for path, patched in _parse_patch(args.patch):
        target = ctx.resolve(path)
        current = _current(ctx, target)
        if patched.is_removed_file:
            raise ToolError("apply_patch cannot delete files; use shell at the shell tier")
        before = current.text if current else ""
        if current is None and not patched.is_added_file:
            raise ToolError(f"{path} does not exist")
        planned.append((target, current, _apply_hunks(before, patched, path)))
    messages = [await submit(ctx, "apply_patch", t, c, after) for t, c, after in planned]
    return ToolOutput("\n".join(messages), f"patched {len(planned)} file(s)")


def _parse_patch(patch: str) -> list[tuple[str, Any]]:  # (path, unidiff PatchedFile)
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    try:
        patch_set = PatchSet(io.StringIO(patch))
    except UnidiffParseError as exc:
        raise ToolError(f"could not parse the patch: {exc}") from None
    if not len(patch_set):
        raise ToolError("the patch contains no file changes (need ---/+++ headers and @@ hunks)")
    out: list[tuple[str, Any]] = []
    for patched in patch_set:
        path = patched.target_file if not patched.is_removed_file else patched.source_file
        for prefix in ("b/", "a/"):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        out.append((path, patched))
    return out


def _apply_hunks(text: str, patched: Any, label: str) -> str:
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.count("\r\n") > text.count("\n") / 2 and "\r\n" in text else "\n"
    out: list[str] = []
    cursor = 0
    for hunk in patched:
        start = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
        expected = [line.value for line in hunk if line.is_context or line.is_removed]
        found = _locate(lines, expected, start, cursor)
        if found is None:
            raise ToolError(
                f"hunk @@ -{hunk.source_start},{hunk.source_length} @@ does not apply "
                f"to {label}; nothing was changed. Read the file and regenerate the "
                "patch."
            )
        out.extend(lines[cursor:found])
        for line in hunk:
            if line.is_context or line.is_added:
                value = line.value
                if value.endswith("\n") and newline == "\r\n" and not value.endswith("\r\n"):
                    value = value[:-1] + "\r\n"
                out.append(value)
        cursor = found + len(expected)
    out.extend(lines[cursor:])
    return "".join(out)


def _locate(lines: list[str], expected: list[str], start: int, floor: int) -> int | None:
    def matches(at: int) -> bool:
        window = lines[at : at + len(expected)]
        return len(window) == len(expected) and all(
            a.rstrip("\r\n") == b.rstrip("\r\n") for a, b in zip(window, expected, strict=True)
        )

    # Exact position first, then the nearest offset (like patch's fuzz 0 with offsets).
    for delta in range(0, max(len(lines), 1) + 1):
        for at in (start + delta, start - delta):
            if floor <= at <= len(lines) and matches(at):
                return at
    return None


WRITE_FILE = define_tool(
    "write_file",
    "Create a file, or replace an existing file's whole content (read it first).",
    WriteFileArgs,
    "write",
    plan_write_file,
    run_write_file,
)


EDIT_FILE = define_tool(
    "edit_file",
    "Replace exact text in a file. old_text must match exactly once unless "
    "replace_all is true. Read the file first.",
    EditFileArgs,
    "write",
    plan_edit_file,
    run_edit_file,
)


APPLY_PATCH = define_tool(
    "apply_patch",
    "Apply a unified diff to one or more files; all hunks apply or none do.",
    ApplyPatchArgs,
    "write",
    plan_apply_patch,
    run_apply_patch,
)
