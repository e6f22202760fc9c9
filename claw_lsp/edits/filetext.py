"""Reading and writing files as text without ever corrupting them.

Rules (SECURITY.md EC-12, RE-01, RE-02, SF-02): bytes are decoded strictly as UTF-8 or refused,
never replaced with U+FFFD; the BOM and the file's line endings survive a rewrite; binaries and
special files are detected before anything is read into memory; writes are atomic.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from claw_lsp.edits.positions import split_lines_keepends

UTF8_BOM = b"\xef\xbb\xbf"
BINARY_SNIFF_BYTES = 8192
TEMP_FILE_PREFIX = ".claw-tmp-"
DEFAULT_NEW_FILE_MODE = 0o644
_READ_CHUNK_BYTES = 1 << 20

# Magic numbers of binary formats that are refused outright: they are checked before the NUL
# sniff because some (PDF, JPEG) may have no NUL byte in their first 8 KiB.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\x7fELF", "elf"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"(\xb5/\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x00asm", "wasm"),
    (b"\xca\xfe\xba\xbe", "java class or mach-o"),
    (b"\xcf\xfa\xed\xfe", "mach-o"),
    (b"\xce\xfa\xed\xfe", "mach-o"),
)
# Printable magics a real text file could start with: used only to name the type of a file
# already found to be binary (NUL bytes, or not decodable).
_LABEL_ONLY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BZh", "bzip2"),
    (b"MZ", "pe/exe"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)
# Text in these encodings is not binary, but we do not edit it either.
_NON_UTF8_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


class BinaryFileError(ValueError):
    def __init__(self, size: int, kind: str | None) -> None:
        self.size = size
        self.kind = kind
        type_note = f", type {kind}" if kind else ""
        super().__init__(f"binary file, {size} bytes{type_note}")


class UnsupportedEncodingError(ValueError):
    def __init__(self, guessed_encoding: str) -> None:
        self.guessed_encoding = guessed_encoding
        super().__init__(f"not UTF-8 text ({guessed_encoding}?); refusing to rewrite it")


class NotRegularFileError(ValueError):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"not a regular file ({kind}); refusing to read it")


class FileTooLargeError(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"file is {size} bytes; larger than the {limit}-byte limit")


@dataclass(frozen=True)
class FileText:
    text: str  # decoded, BOM removed; line endings as in the file (NOT normalised)
    bom: bool
    newline: str  # dominant: "\n", "\r\n" or "\r" ("\n" for files without line breaks)
    size: int  # bytes on disk


def _strong_binary_type(head: bytes) -> str | None:
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            return kind
    return None


def guess_binary_type(head: bytes) -> str | None:
    """A short name for a known binary format, from its magic number (a guess, for messages)."""
    strong = _strong_binary_type(head)
    if strong is not None:
        return strong
    for magic, kind in _LABEL_ONLY_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return head[8:12].decode("ascii").strip().lower()
    if len(head) >= 4 and head[2:4] == b"\r\n" and head[:2] != b"\r\n":
        return "pyc"  # CPython bytecode: a 2-byte version magic followed by \r\n
    if head[257:262] == b"ustar":
        return "tar"
    return None


def non_utf8_bom(head: bytes) -> str | None:
    for bom, encoding in _NON_UTF8_BOMS:
        if head.startswith(bom):
            return encoding
    return None


def check_text_head(head: bytes, total_size: int) -> None:
    """Raise if the first bytes of a file show it is binary or UTF-16/32 text."""
    encoding = non_utf8_bom(head)
    if encoding is not None:
        raise UnsupportedEncodingError(encoding)
    strong = _strong_binary_type(head)
    if strong is not None:
        raise BinaryFileError(total_size, strong)
    if b"\x00" in head[:BINARY_SNIFF_BYTES]:
        raise BinaryFileError(total_size, guess_binary_type(head))


def _guess_legacy_encoding(data: bytes) -> str:
    if any(0x80 <= byte <= 0x9F for byte in data):
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "unknown encoding"
        return "cp1252"
    return "latin-1"


def _dominant_newline(text: str) -> str:
    crlf = text.count("\r\n")
    lone_cr = text.count("\r") - crlf
    lone_lf = text.count("\n") - crlf
    # Ties go to \n, the model's native newline.
    best = max((lone_lf, "\n"), (crlf, "\r\n"), (lone_cr, "\r"), key=lambda pair: pair[0])
    return best[1] if best[0] > 0 else "\n"


def decode_bytes(data: bytes) -> FileText:
    check_text_head(data[:BINARY_SNIFF_BYTES], len(data))
    has_bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if has_bom else data
    try:
        text = body.decode("utf-8")  # strict: a lossy decode would corrupt the file on rewrite
    except UnicodeDecodeError:
        kind = guess_binary_type(data)
        if kind is not None:
            raise BinaryFileError(len(data), kind) from None
        raise UnsupportedEncodingError(_guess_legacy_encoding(body)) from None
    return FileText(text=text, bom=has_bom, newline=_dominant_newline(text), size=len(data))


def encode_text(text: str, like: FileText | None) -> bytes:
    """UTF-8 bytes for `text`, with a BOM when the original file had one."""
    encoded = text.encode("utf-8")
    return UTF8_BOM + encoded if like is not None and like.bom else encoded


def _line_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\r", "\n")):
        return line[-1]
    return ""


def _line_content(line: str) -> str:
    return line[: len(line) - len(_line_ending(line))]


def adopt_newlines(new_text: str, like: FileText) -> str:
    """Give text the model wrote with "\\n" the line endings of the file it goes into.

    A line of `new_text` that matches a line of the file keeps that line's original ending, so
    a mixed-ending file changes only where the content changed; other "\\n"-terminated lines get
    the file's dominant newline. Lines the model ended with \\r\\n or \\r are left alone.
    """
    if "\r" not in like.text:
        return new_text
    old_lines = split_lines_keepends(like.text)
    new_lines = split_lines_keepends(new_text)
    old_contents = [_line_content(line) for line in old_lines]
    new_contents = [_line_content(line) for line in new_lines]
    endings = [like.newline] * len(new_lines)
    # autojunk on: with it off, many blank lines make the matcher quadratic (see textdiff).
    matcher = difflib.SequenceMatcher(None, old_contents, new_contents)
    for old_from, new_from, length in matcher.get_matching_blocks():
        for step in range(length):
            original_ending = _line_ending(old_lines[old_from + step])
            if original_ending:
                endings[new_from + step] = original_ending
    adopted: list[str] = []
    for line, ending in zip(new_lines, endings, strict=True):
        if line.endswith("\n") and not line.endswith("\r\n"):
            adopted.append(line[:-1] + ending)
        else:
            adopted.append(line)
    return "".join(adopted)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _open_regular_file(path: Path) -> tuple[int, int]:
    """Open a regular file for reading; returns (fd, size). Special files are refused.

    stat() first so that a device or FIFO is never opened at all (opening some devices has side
    effects); then O_NONBLOCK so that, if the path was swapped for a FIFO in between, open()
    cannot block, and fstat() on the descriptor so that the check holds for what was opened.
    """
    path_mode = os.stat(path).st_mode
    if not stat.S_ISREG(path_mode):
        raise NotRegularFileError(_file_kind(path_mode))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFileError(_file_kind(status.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd, status.st_size


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, _READ_CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_head(path: Path, *, max_bytes: int) -> tuple[bytes, int]:
    """The first `max_bytes` bytes of a regular file and its total size in bytes."""
    fd, size = _open_regular_file(path)
    try:
        return _read_up_to(fd, max_bytes), size
    finally:
        os.close(fd)


def read_file_text(path: Path, *, max_bytes: int) -> FileText:
    fd, size = _open_regular_file(path)
    try:
        if size > max_bytes:
            raise FileTooLargeError(size, max_bytes)
        # One byte more than allowed detects a file that grew after fstat.
        data = _read_up_to(fd, max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileTooLargeError(len(data), max_bytes)
    return decode_bytes(data)


def _refuse_unless_replaceable(path: Path) -> os.stat_result | None:
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(status.st_mode):
        raise OSError(errno.ELOOP, "refusing to replace a symlink", str(path))
    if not stat.S_ISREG(status.st_mode):
        kind = _file_kind(status.st_mode)
        raise OSError(errno.EINVAL, f"refusing to replace a {kind}", str(path))
    return status


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as error:
        # Some filesystems cannot fsync a directory; the rename itself has happened.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never a torn one.

    Mode: `mode` if given, else the existing file's permission bits, else 0644.

    Symlinks are refused. The lstat check runs just before os.replace; if the path is swapped
    for a symlink in the window after it, os.replace (rename(2)) replaces the link itself and
    never writes through it, so the link's target cannot be modified by this function.
    A path with several hard links is detached from the others, as with any atomic rename.
    """
    path = Path(path)
    directory = path.parent
    existing = _refuse_unless_replaceable(path)
    if mode is not None:
        final_mode = mode
    elif existing is not None:
        final_mode = stat.S_IMODE(existing.st_mode)
    else:
        final_mode = DEFAULT_NEW_FILE_MODE
    temp_path = directory / f"{TEMP_FILE_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(
        temp_path,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o600,
    )
    replaced = False
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, final_mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        _refuse_unless_replaceable(path)
        os.replace(temp_path, path)
        replaced = True
        _fsync_directory(directory)
    finally:
        if not replaced:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_path)


def remove_stale_temp_files(directory: Path, *, older_than_seconds: float = 3600.0) -> int:
    """Delete leftover atomic_write temp files (from a killed process); returns how many.

    Only regular files older than the threshold go, so a concurrent writer's live temp file is
    left alone.
    """
    removed = 0
    cutoff = time.time() - older_than_seconds
    with os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith(TEMP_FILE_PREFIX):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(status.st_mode) and status.st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
