"""Race-safe file writes below an already-confined real path.

Path confinement (paths.py) checks a path, then a tool writes it. Between the two, a directory
in the path can be swapped for a symlink to somewhere else (by a build script, a second agent, a
hostile repo's background job). Writing by name would then follow that link out of the
workspace. Here every directory is opened with O_NOFOLLOW, one component at a time, and the
temporary file and the final rename are both made relative to the last directory's descriptor,
so a symlink swapped in at any moment makes the write fail instead of escaping.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

TEMP_FILE_PREFIX = ".claw-tmp-"  # the same prefix edits/filetext.py cleans up after a crash
DEFAULT_NEW_FILE_MODE = 0o644
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePathError(OSError):
    """A component of the path is a symlink or not a directory (changed after the check)."""


def open_directory_nofollow(directory: Path, *, create: bool = False) -> int:
    """A descriptor for `directory`, reached from / without following any symlink.

    `directory` must be absolute and already symlink-free (a ResolvedPath's parent). Missing
    components are created (mode 0755 minus umask) when `create` is true.
    """
    if not directory.is_absolute():
        raise ValueError("directory must be absolute")
    fd = os.open("/", _DIR_FLAGS)
    try:
        for part in directory.parts[1:]:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                next_fd = _open_child_dir(part, fd)
            except OSError as exc:  # ELOOP (a symlink) or ENOTDIR
                raise UnsafePathError(
                    exc.errno, f"{part} in {directory} is a symlink or not a directory"
                ) from None
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_child_dir(name: str, parent_fd: int) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        raise UnsafePathError(exc.errno, f"{name} is a symlink or not a directory") from None


def write_confined(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Atomically replace `path` (absolute, symlink-free) with `data`, never through a link.

    Readers see the old or the new file. The final name must be a regular file or missing; a
    symlink there is refused. Mode: `mode`, else the existing file's, else 0644.
    """
    dir_fd = open_directory_nofollow(path.parent, create=True)
    name = path.name
    temp = f"{TEMP_FILE_PREFIX}{secrets.token_hex(8)}"
    replaced = False
    try:
        existing = _regular_or_missing(name, dir_fd)
        final_mode = mode if mode is not None else existing or DEFAULT_NEW_FILE_MODE
        fd = os.open(
            temp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=dir_fd,
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, final_mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        _regular_or_missing(name, dir_fd)
        # rename(2) relative to the directory descriptor: a link swapped in for the final
        # name is replaced, never written through, and the directory cannot be swapped.
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        replaced = True
        os.fsync(dir_fd)
    finally:
        if not replaced:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=dir_fd)
        os.close(dir_fd)


def _regular_or_missing(name: str, dir_fd: int) -> int | None:
    """The permission bits of an existing regular file, None when missing; else refuse."""
    try:
        status = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise UnsafePathError(0, f"{name} is not a regular file (a symlink or special file)")
    return stat.S_IMODE(status.st_mode)


def remove_confined(path: Path) -> None:
    """Unlink the regular file `path` without following a symlink anywhere in the path; a
    symlink at the final name is left alone (it was not ours to create)."""
    dir_fd = open_directory_nofollow(path.parent)
    try:
        if _regular_or_missing_quiet(path.name, dir_fd):
            os.unlink(path.name, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def _regular_or_missing_quiet(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False
