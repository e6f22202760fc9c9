"""list_dir, glob and grep. ripgrep is the engine: it honours .gitignore, skips binaries and
hidden/VCS directories, runs in linear time, and never follows symlinks unless asked.

Per result, Python does as little as possible (issue 9: tens of thousands of results): rg
itself drops credential-like files (`--iglob '!pattern'`), rg lists no symlinks (it does not
follow them), and only the rows that will be shown are checked again and formatted.
"""

from __future__ import annotations

import asyncio
import fnmatch
import heapq
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from pydantic import Field

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.permissions.paths import (
    SENSITIVE_DIRS,
    SENSITIVE_GLOBS,
    PathDenied,
    ResolvedPath,
    is_sensitive_name,
    is_sensitive_relative,
)
from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool
from claw_lsp.tools.ripgrep import rg_binary, run_rg

__all__ = ["rg_binary", "run_rg"]  # bench/ and tests use them from here

MAX_ENTRIES = 500
MAX_GLOB_RESULTS = 500
MAX_MATCHES = 100
MAX_MATCH_LINE_CHARS = 300
MAX_SEARCHED_FILE_BYTES = 20_000_000
ALWAYS_SKIPPED = ("node_modules", ".git")


def _roots(ctx: ToolContext) -> list[Path]:
    return [root.real_path for root in ctx.workspace.roots]


def _exclusions(*, sensitive: bool = True) -> list[str]:
    """Globs rg applies while it walks. The --iglob ones come after every --glob in rg's
    precedence, so a model-supplied glob cannot re-include what they drop. A directory named
    like a credential file (`credentials/`) is skipped whole: safe, and rare."""
    out: list[str] = []
    for name in ALWAYS_SKIPPED:
        out += ["--glob", f"!**/{name}/**", "--glob", f"!{name}"]
    if sensitive:
        for pattern in (*SENSITIVE_GLOBS, *SENSITIVE_DIRS):
            out += ["--iglob", f"!{pattern}"]
    return out


# is_sensitive_relative as one compiled regex: fnmatch per pattern per row was the main cost
# of showing 500 rows.
_SENSITIVE_NAME = re.compile("|".join(fnmatch.translate(p.lower()) for p in SENSITIVE_GLOBS))
_SENSITIVE_DIR_NAMES = frozenset(name.lower() for name in SENSITIVE_DIRS)


def _looks_sensitive(root_relative: str) -> bool:
    parts = root_relative.lower().split("/")
    return bool(_SENSITIVE_NAME.match(parts[-1])) or not _SENSITIVE_DIR_NAMES.isdisjoint(parts)


def _listed_entry_ok(ctx: ToolContext, anchor: Path, rel: str, root_relative: str) -> bool:
    """The second check, on shown rows only: rg lists no symlinks, but should one appear,
    resolve it and drop it unless it stays inside; and never show a credential-like file."""
    if _looks_sensitive(root_relative):
        return False
    if not os.path.islink(anchor / rel):
        return True
    try:
        target = ctx.workspace.resolve(str(anchor / rel), base=ctx.root)
    except PathDenied:
        return False
    return not is_sensitive_relative(target.relative)


class ListDirArgs(ToolArgs):
    path: str = Field(default=".", description="Directory, relative to the workspace folder")


def plan_list_dir(args: ListDirArgs, ctx: ToolContext) -> Access:
    return Access("read", paths=(ctx.resolve(args.path),))


async def run_list_dir(args: ListDirArgs, ctx: ToolContext) -> ToolOutput:
    target = ctx.resolve(args.path)
    if not target.path.is_dir():
        raise ToolError(f"{target.relative} is not a directory")
    rows: list[str] = []
    hidden = 0
    try:
        entries = sorted(os.scandir(target.path), key=lambda e: e.name)
    except OSError as exc:
        raise ToolError(f"cannot list {target.relative}: {exc.strerror}") from None
    for entry in entries:
        if is_sensitive_name(entry.name):
            hidden += 1
            continue
        name = escape_for_display(entry.name)  # a newline in a name must not make a ghost row
        if entry.is_symlink():
            rows.append(f"{name}@ (symlink, not followed)")
        elif entry.is_dir():
            rows.append(name + "/")
        else:
            rows.append(name)
    shown = rows[:MAX_ENTRIES]
    notes = []
    if len(rows) > MAX_ENTRIES:
        notes.append(f"{len(rows) - MAX_ENTRIES} more entries not shown")
    if hidden:
        notes.append(f"{hidden} credential-like files hidden")
    body = "\n".join(shown) or "(empty directory)"
    if notes:
        body += f"\n[{'; '.join(notes)}]"
    return ToolOutput(body, f"listed {target.relative}: {len(rows)} entries")


class GlobArgs(ToolArgs):
    pattern: str = Field(description="Glob relative to the folder, e.g. src/**/*.py")
    path: str = Field(default=".", description="Directory to search in")


def plan_glob(args: GlobArgs, ctx: ToolContext) -> Access:
    _check_pattern(args.pattern)
    return Access("read", paths=(ctx.resolve(args.path),))


async def run_glob(args: GlobArgs, ctx: ToolContext) -> ToolOutput:
    _check_pattern(args.pattern)
    base = ctx.resolve(args.path)
    if not base.path.is_dir():
        raise ToolError(f"{base.relative} is not a directory")
    # No `--sort path`: it makes rg walk on one thread. Sorting here is cheaper.
    code, out = await run_rg(
        ["--files", "--null", "--hidden", "--glob", args.pattern, *_exclusions()],
        base.path,
        roots=_roots(ctx),
    )
    if code not in (0, 1):
        raise ToolError(f"glob failed for pattern {args.pattern!r}")
    # Paths end with NUL (a name may hold a newline). With "/" and NUL swapped, a plain bytes
    # sort orders whole path components, like rg's.
    listed = out.translate(_SWAP_SLASH_AND_NUL).split(b"/")
    if listed[-1] == b"":
        listed.pop()  # after the last path
    prefix = "" if base.relative == "." else base.relative + "/"
    total = len(listed)
    shown: list[str] = []
    for entry in _in_path_order(listed, MAX_GLOB_RESULTS):
        if len(shown) == MAX_GLOB_RESULTS:
            break
        rel = entry.replace(b"\0", b"/").decode("utf-8", "replace")
        if _listed_entry_ok(ctx, base.path, rel, prefix + rel):
            shown.append(escape_for_display(prefix + rel))
        else:
            total -= 1
    body = "\n".join(shown) or "(no matches)"
    if total > len(shown):
        body += f"\n[{total} files matched; first {len(shown)} shown]"
    return ToolOutput(body, f"glob {args.pattern}: {total} files")


_SWAP_SLASH_AND_NUL = bytes.maketrans(b"/\0", b"\0/")


def _in_path_order(listed: list[bytes], likely: int) -> Iterator[bytes]:
    """Sorted, cheaply: only the first `likely` entries are usually looked at."""
    yield from heapq.nsmallest(likely, listed)
    if len(listed) > likely:
        yield from sorted(listed)[likely:]


class GrepArgs(ToolArgs):
    pattern: str = Field(description="Regular expression (Rust regex syntax)")
    path: str = Field(default=".", description="File or directory to search")
    glob: str | None = Field(default=None, description="Only files matching this glob")
    ignore_case: bool = False
    max_matches: int = Field(default=MAX_MATCHES, ge=1, le=500)


def plan_grep(args: GrepArgs, ctx: ToolContext) -> Access:
    if args.glob:
        _check_pattern(args.glob)
    return Access("read", paths=(ctx.resolve(args.path),))


async def run_grep(args: GrepArgs, ctx: ToolContext) -> ToolOutput:
    base = ctx.resolve(args.path)
    # A single file named by the model already passed the sensitive-file approval.
    single = not base.path.is_dir()
    cwd = base.path.parent if single else base.path
    target = base.path.name if single else "."
    walk = ["--hidden", *_exclusions(sensitive=not single), "--max-filesize", "20M"]
    if args.glob:
        walk = ["--glob", args.glob, *walk]
    matching = ["--max-columns", str(MAX_MATCH_LINE_CHARS), "--max-columns-preview"]
    if args.ignore_case:
        matching.append("--ignore-case")
    matching += ["-e", args.pattern]
    buffers = _unsaved_buffers(ctx, base, cwd, single)
    rows_format = ["-n", "--with-filename", "--null", "--no-heading", "--color", "never"]
    roots = _roots(ctx)
    disk_search = run_rg([*rows_format, *walk, *matching, "--", target], cwd, roots=roots)
    if buffers and not single:
        # Would rg have searched the file at all (ignored, filtered by glob...)? rg knows.
        (code, out), (_, listing) = await asyncio.gather(
            disk_search, run_rg(["--files", *walk, "--", target], cwd, roots=roots)
        )
        eligible = set(listing.decode("utf-8", "replace").split("\n"))
        buffers = {path: text for path, text in buffers.items() if path in eligible}
    else:
        code, out = await disk_search
    if code not in (0, 1):
        raise ToolError(f"grep failed: invalid pattern {args.pattern!r}?")
    buffer_rows = {
        path: await _search_buffer(text, matching, cwd, roots) for path, text in buffers.items()
    }
    root_real = base.root.real_path
    prefix = "" if cwd == root_real else cwd.relative_to(root_real).as_posix() + "/"
    rows, total = _grep_rows(ctx, out, buffer_rows, args.max_matches, cwd, prefix, single)
    body = "\n".join(rows) or "(no matches)"
    if total > len(rows):
        body += f"\n[{total} matches in all; first {len(rows)} shown; narrow the search]"
    return ToolOutput(body, f"grep {args.pattern!r}: {total} matches")


def _grep_rows(
    ctx: ToolContext,
    out: bytes,
    buffer_rows: dict[str, list[str]],
    limit: int,
    cwd: Path,
    prefix: str,
    approved: bool,
) -> tuple[list[str], int]:
    """rg's `path NUL line:text` lines to rows, up to `limit`; past it only counted. An
    unsaved buffer's matches replace its file's disk matches where that file's come (rg keeps
    each file's matches together), or follow the disk rows when the disk had none."""
    # One NUL per match row; rg's note on a named binary file has none (and only then).
    total = (
        out.count(b"\0")
        if not approved
        else out.count(b"\n") + (1 if out and not out.endswith(b"\n") else 0)
    )
    for path, found in buffer_rows.items():
        encoded = os.fsencode(path) + b"\0"
        on_disk = out.count(b"\n" + encoded) + (1 if out.startswith(encoded) else 0)
        total += len(found) - on_disk
    rows: list[str] = []
    pending = dict(buffer_rows)
    checked: dict[str, bool] = {}
    for raw in _rows(out, by_path=not approved):
        if len(rows) >= limit:
            break
        raw_path, nul, rest = raw.partition(b"\0")
        if not nul:  # rg's note on a binary file named explicitly: "path: binary file matches"
            rows.append(escape_for_display(_shown(prefix, raw.decode("utf-8", "replace"))))
            continue
        path = raw_path.decode("utf-8", "replace")
        if path in buffer_rows:
            rows += [f"{_display(prefix, path)}:{row}" for row in pending.pop(path, [])]
            continue
        shown = _shown(prefix, path)
        if path not in checked:
            checked[path] = approved or _listed_entry_ok(ctx, cwd, path, shown)
        if not checked[path]:
            total -= 1
            continue
        line_number, _, text = rest.partition(b":")
        line = text.decode("utf-8", "replace").rstrip("\r")[:MAX_MATCH_LINE_CHARS]
        rows.append(f"{escape_for_display(shown)}:{line_number.decode('ascii', 'replace')}:{line}")
    for path, found in pending.items():
        rows += [f"{_display(prefix, path)}:{row}" for row in found]
    return rows[:limit], total


def _rows(data: bytes, *, by_path: bool) -> Iterator[bytes]:
    """rg's rows one by one, so that the rows past the cap are never split or decoded. With
    `by_path`, a row is `path NUL line-number:text` and ends at the first newline after its NUL:
    a newline inside a file name does not start a (ghost) row."""
    start = 0
    while start < len(data):
        nul = data.find(b"\0", start) if by_path else start
        end = data.find(b"\n", max(nul, start))
        if end < 0:
            end = len(data)
        yield data[start:end]
        start = end + 1


def _shown(prefix: str, rg_path: str) -> str:
    return prefix + rg_path.removeprefix("./")


def _display(prefix: str, rg_path: str) -> str:
    return escape_for_display(_shown(prefix, rg_path))


def _unsaved_buffers(
    ctx: ToolContext, base: ResolvedPath, cwd: Path, single: bool
) -> dict[str, str]:
    """Open documents in the searched scope whose buffer differs from the file on disk, keyed
    by the path as rg prints it. A buffer of a file not yet on disk is not searched."""
    found: dict[str, str] = {}
    for document in ctx.editor.open_documents():
        if document.path is None:
            continue
        try:
            resolved = ctx.workspace.resolve(str(document.path), base=ctx.root)
        except PathDenied:
            continue
        real = resolved.path
        if single and real != base.path:
            continue
        if not single and (real == base.path or not real.is_relative_to(base.path)):
            continue
        rel = real.relative_to(cwd).as_posix()
        if not single and (
            is_sensitive_relative(resolved.relative)
            or any(part in ALWAYS_SKIPPED for part in PurePosixPath(rel).parts)
        ):
            continue
        snapshot = ctx.editor.snapshot(real)
        try:
            if snapshot is None or not real.is_file() or real.is_symlink():
                continue
            if real.stat().st_size > MAX_SEARCHED_FILE_BYTES:
                continue
            on_disk = real.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if snapshot.text != on_disk:
            found[rel if single else f"./{rel}"] = snapshot.text
    return found


async def _search_buffer(
    text: str, matching: list[str], cwd: Path, roots: Sequence[Path]
) -> list[str]:
    """The same rg, the same pattern flags, over the buffer on stdin: `line:text` rows."""
    code, out = await run_rg(
        ["-n", "--no-filename", "--color", "never", *matching, "-"],
        cwd,
        stdin=text.encode("utf-8", "replace"),
        roots=roots,
    )
    if code not in (0, 1):
        return []
    rows = []
    for raw in out.decode("utf-8", "replace").split("\n"):
        line_number, _, line = raw.partition(":")
        if line_number.isdigit():
            rows.append(f"{line_number}:{line.rstrip(chr(13))[:MAX_MATCH_LINE_CHARS]}")
        elif raw:  # "binary file matches (...)"
            rows.append(f" {raw}")
    return rows


def _check_pattern(pattern: str) -> None:
    parts = PurePosixPath(pattern.replace("\\", "/")).parts
    if pattern.startswith(("/", "~")) or ".." in parts:
        raise ToolError("glob patterns must be relative to the folder and may not contain '..'")


LIST_DIR = define_tool(
    "list_dir",
    "List a directory's entries (directories end with /).",
    ListDirArgs,
    "read",
    plan_list_dir,
    run_list_dir,
)


GLOB = define_tool(
    "glob",
    "Find files by glob pattern (respects .gitignore).",
    GlobArgs,
    "read",
    plan_glob,
    run_glob,
)


GREP = define_tool(
    "grep",
    "Search file contents with a regex; returns path:line:text (respects .gitignore).",
    GrepArgs,
    "read",
    plan_grep,
    run_grep,
)
