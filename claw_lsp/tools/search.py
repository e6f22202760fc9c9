"""list_dir, glob and grep. ripgrep is the engine: it honours .gitignore, skips binaries and
hidden/VCS directories, runs in linear time, and never follows symlinks unless asked."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path, PurePosixPath

from pydantic import Field

from claw_lsp.permissions.paths import (
    PathDenied,
    ResolvedPath,
    is_sensitive_name,
    is_sensitive_relative,
)
from claw_lsp.tools.base import Access, Tool, ToolArgs, ToolContext, ToolError, ToolOutput

MAX_ENTRIES = 500
MAX_GLOB_RESULTS = 500
MAX_MATCHES = 100
MAX_MATCH_LINE_CHARS = 300
RG_TIMEOUT_S = 30.0
ALWAYS_SKIPPED = ("node_modules", ".git")


def rg_binary() -> str:
    """The rg shipped with the `ripgrep` wheel next to our interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "rg"
    if beside.exists():
        return str(beside)
    found = shutil.which("rg")
    if not found:
        raise ToolError("ripgrep (rg) is not installed; reinstall claw-lsp")
    return found


async def run_rg(args: list[str], cwd: Path) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        rg_binary(),
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), RG_TIMEOUT_S)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out


def _exclusions() -> list[str]:
    out: list[str] = []
    for name in ALWAYS_SKIPPED:
        out += ["--glob", f"!**/{name}/**", "--glob", f"!{name}"]
    return out


class ListDirArgs(ToolArgs):
    path: str = Field(default=".", description="Directory, relative to the workspace folder")


class ListDirTool(Tool):
    name = "list_dir"
    description = "List a directory's entries (directories end with /)."
    Args = ListDirArgs
    kind = "read"

    def access(self, args: ListDirArgs, ctx: ToolContext) -> Access:
        return Access("read", paths=(ctx.resolve(args.path),))

    async def run(self, args: ListDirArgs, ctx: ToolContext) -> ToolOutput:
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
            if entry.is_symlink():
                rows.append(f"{entry.name}@ (symlink, not followed)")
            elif entry.is_dir():
                rows.append(entry.name + "/")
            else:
                rows.append(entry.name)
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


class GlobTool(Tool):
    name = "glob"
    description = "Find files by glob pattern (respects .gitignore)."
    Args = GlobArgs
    kind = "read"

    def access(self, args: GlobArgs, ctx: ToolContext) -> Access:
        _check_pattern(args.pattern)
        return Access("read", paths=(ctx.resolve(args.path),))

    async def run(self, args: GlobArgs, ctx: ToolContext) -> ToolOutput:
        _check_pattern(args.pattern)
        base = ctx.resolve(args.path)
        if not base.path.is_dir():
            raise ToolError(f"{base.relative} is not a directory")
        code, out = await run_rg(
            ["--files", "--hidden", "--glob", args.pattern, *_exclusions(), "--sort", "path"],
            base.path,
        )
        if code not in (0, 1):
            raise ToolError(f"glob failed for pattern {args.pattern!r}")
        files = [line for line in out.decode("utf-8", "replace").splitlines() if line]
        kept = [f for f in files if _inside(ctx, base, f)]
        prefix = "" if base.relative == "." else base.relative + "/"
        shown = [prefix + f for f in kept[:MAX_GLOB_RESULTS]]
        body = "\n".join(shown) or "(no matches)"
        if len(kept) > MAX_GLOB_RESULTS:
            body += f"\n[{len(kept)} files matched; first {MAX_GLOB_RESULTS} shown]"
        return ToolOutput(body, f"glob {args.pattern}: {len(kept)} files")


class GrepArgs(ToolArgs):
    pattern: str = Field(description="Regular expression (Rust regex syntax)")
    path: str = Field(default=".", description="File or directory to search")
    glob: str | None = Field(default=None, description="Only files matching this glob")
    ignore_case: bool = False
    max_matches: int = Field(default=MAX_MATCHES, ge=1, le=500)


class GrepTool(Tool):
    name = "grep"
    description = "Search file contents with a regex; returns path:line:text (respects .gitignore)."
    Args = GrepArgs
    kind = "read"

    def access(self, args: GrepArgs, ctx: ToolContext) -> Access:
        if args.glob:
            _check_pattern(args.glob)
        return Access("read", paths=(ctx.resolve(args.path),))

    async def run(self, args: GrepArgs, ctx: ToolContext) -> ToolOutput:
        base = ctx.resolve(args.path)
        cwd = base.path if base.path.is_dir() else base.path.parent
        target = "." if base.path.is_dir() else base.path.name
        flags = [
            "--json",
            "--hidden",
            "--max-columns",
            str(MAX_MATCH_LINE_CHARS),
            "--max-columns-preview",
            *_exclusions(),
            "--max-filesize",
            "20M",
        ]
        if args.ignore_case:
            flags.append("--ignore-case")
        if args.glob:
            flags += ["--glob", args.glob]
        code, out = await run_rg([*flags, "-e", args.pattern, "--", target], cwd)
        if code not in (0, 1):
            raise ToolError(f"grep failed: invalid pattern {args.pattern!r}?")
        rows: list[str] = []
        total = 0
        prefix = "" if cwd == base.root.real_path else cwd.relative_to(base.root.real_path)
        for line in out.splitlines():
            event = json.loads(line)
            if event.get("type") != "match":
                continue
            rel = event["data"]["path"].get("text", "")
            # A single file named by the model already passed the sensitive-file approval.
            single = not base.path.is_dir()
            if not _inside(ctx, None if single else base, rel, cwd=cwd, approved=single):
                continue
            total += 1
            if len(rows) < args.max_matches:
                text = event["data"]["lines"].get("text", "").rstrip("\n")[:MAX_MATCH_LINE_CHARS]
                shown = str(PurePosixPath(str(prefix)) / rel) if prefix else rel
                rows.append(f"{shown.removeprefix('./')}:{event['data']['line_number']}:{text}")
        body = "\n".join(rows) or "(no matches)"
        if total > len(rows):
            body += f"\n[{total} matches in all; first {len(rows)} shown; narrow the search]"
        return ToolOutput(body, f"grep {args.pattern!r}: {total} matches")


def _check_pattern(pattern: str) -> None:
    parts = PurePosixPath(pattern.replace("\\", "/")).parts
    if pattern.startswith(("/", "~")) or ".." in parts:
        raise ToolError("glob patterns must be relative to the folder and may not contain '..'")


def _inside(
    ctx: ToolContext,
    base: ResolvedPath | None,
    rel: str,
    *,
    cwd: Path | None = None,
    approved: bool = False,
) -> bool:
    """rg does not follow links, but a listed link may still point out: drop it, and drop
    credential-like files unless the user asked for them by approval."""
    anchor = cwd if cwd is not None else (base.path if base else ctx.root.real_path)
    if is_sensitive_name(PurePosixPath(rel).name) and not approved:
        return False
    try:
        target = ctx.workspace.resolve(str(anchor / rel), base=ctx.root)
    except PathDenied:
        return False
    return approved or not is_sensitive_relative(target.relative)
