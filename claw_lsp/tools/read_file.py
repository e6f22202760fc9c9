"""read_file: numbered lines from a file (the editor's unsaved buffer when it is open)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from claw_lsp.edits.filetext import BinaryFileError, UnsupportedEncodingError, decode_bytes
from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool

MAX_LINES = 2000
MAX_LINE_CHARS = 2000
MAX_OUTPUT_CHARS = 60_000
SNIFF_BYTES = 8192
STREAM_ABOVE_BYTES = 4_000_000


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace folder")
    offset: int = Field(default=1, ge=1, description="First line to read (1-based)")
    limit: int = Field(default=MAX_LINES, ge=1, le=MAX_LINES, description="Number of lines")


def plan_read(args: ReadFileArgs, ctx: ToolContext) -> Access:
    return Access("read", paths=(ctx.resolve(args.path),))


async def read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolOutput:
    target = ctx.resolve(args.path)
    snapshot = ctx.editor.snapshot(target.path)
    if snapshot is not None:
        lines = snapshot.text.splitlines()
        total: int | None = len(lines)
        selected = lines[args.offset - 1 : args.offset - 1 + args.limit]
        ctx.remember_read(target, snapshot.text)
        source = " (unsaved editor buffer)" if snapshot.version is not None else ""
    elif _small(target.path):
        whole = ctx.read_text(target)
        lines = whole.text.splitlines()
        total = len(lines)
        selected = lines[args.offset - 1 : args.offset - 1 + args.limit]
        ctx.remember_read(target, whole.text)
        source = ""
    else:
        selected, total = _stream_lines(target.path, target.relative, args.offset, args.limit)
        source = ""
    if not selected and args.offset > 1:
        raise ToolError(
            f"{target.relative} has {total} lines; offset {args.offset} is past the end"
        )
    body, clipped = _number(selected, args.offset)
    last = args.offset + len(selected) - 1
    notes = []
    if total is None:
        notes.append(
            f"lines {args.offset}-{last} shown; the file is too large to count "
            "lines; continue with offset"
        )
    elif last < total:
        notes.append(f"lines {args.offset}-{last} of {total}; continue with offset={last + 1}")
    if clipped:
        notes.append(f"{clipped} long lines cut at {MAX_LINE_CHARS} characters")
    footer = f"\n[{'; '.join(notes)}]" if notes else ""
    return ToolOutput(body + footer, f"read {target.relative}{source}: {len(selected)} lines")


def _number(lines: list[str], first: int) -> tuple[str, int]:
    out: list[str] = []
    clipped = 0
    size = 0
    for n, line in enumerate(lines, start=first):
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + " [...]"
            clipped += 1
        row = f"{n:>6}\t{line}"
        size += len(row) + 1
        if size > MAX_OUTPUT_CHARS:
            out.append(f"[output capped at {MAX_OUTPUT_CHARS} characters; use offset={n}]")
            break
        out.append(row)
    return "\n".join(out), clipped


def _stream_lines(
    path: Path, relative: str, offset: int, limit: int
) -> tuple[list[str], int | None]:
    """Read only the requested lines, never the whole file (2 GB logs, minified one-liners)."""
    try:
        if not path.is_file():
            raise ToolError(
                f"{relative} is not a regular file"
                if path.exists()
                else f"{relative} does not exist"
            )
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
            try:
                decode_bytes(head if len(head) < SNIFF_BYTES else _trim_partial(head))
            except BinaryFileError as exc:
                raise ToolError(f"{relative}: {exc}; not shown") from None
            except UnsupportedEncodingError as exc:
                raise ToolError(f"{relative}: {exc}") from None
            fh.seek(0)
            lines: list[str] = []
            n = 0
            byte_cap = MAX_LINE_CHARS * 4 + 8
            while len(lines) < limit:
                raw = fh.readline(byte_cap)
                if not raw:
                    break
                if not raw.endswith(b"\n") and len(raw) >= byte_cap:
                    while (rest := fh.readline(1 << 16)) and not rest.endswith(b"\n"):
                        pass  # skip the remainder of an enormous line
                n += 1
                if n >= offset:
                    lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
            return lines, None if size > STREAM_ABOVE_BYTES else n
    except OSError as exc:
        raise ToolError(f"cannot read {relative}: {exc.strerror}") from None


def _trim_partial(data: bytes) -> bytes:
    # A UTF-8 sequence cut by the sniff window must not count as "not UTF-8".
    for cut in range(0, 4):
        try:
            (data[: len(data) - cut] if cut else data).decode("utf-8")
            return data[: len(data) - cut] if cut else data
        except UnicodeDecodeError:
            continue
    return data


def _small(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size <= STREAM_ABOVE_BYTES
    except OSError:
        return False


READ_FILE = define_tool(
    "read_file",
    "Read a text file with line numbers. Use offset/limit for long files.",
    ReadFileArgs,
    "read",
    plan_read,
    read_file,
)
