"""Where the programs the server starts come from (bwrap, git, rg, the shell).

A PATH entry that is relative ('.', 'bin', or empty, which means the current directory) or lies
inside a workspace folder lets the repository choose the program: a `bwrap` or `git` planted in
the folder would be what runs. Such entries are skipped when the server looks a program up, and
dropped from the PATH its commands get.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

_distrusted: set[Path] = set()
_lock = threading.Lock()


def distrust(root: Path) -> None:
    """Every folder ever opened as a workspace folder (paths.Workspace registers them): no
    program is taken from inside it, even after the editor closed it."""
    with _lock:
        _distrusted.add(Path(os.path.realpath(root)))


def distrusted() -> tuple[Path, ...]:
    with _lock:
        return tuple(_distrusted)


def trusted_path_entries(path_value: str | None, untrusted_roots: Sequence[Path] = ()) -> list[str]:
    """The absolute PATH entries that are not inside any of `untrusted_roots` or of a folder
    that was a workspace folder."""
    roots = [Path(os.path.realpath(r)) for r in (*untrusted_roots, *distrusted())]
    entries: list[str] = []
    for entry in (path_value if path_value is not None else os.defpath).split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        lexical = Path(os.path.normpath(entry))
        real = Path(os.path.realpath(entry))
        if any(_under(p, root) for p in (lexical, real) for root in roots):
            continue
        if entry not in entries:
            entries.append(entry)
    return entries


def trusted_which(
    name: str, *, path: str | None = None, untrusted_roots: Sequence[Path] = ()
) -> str | None:
    """The absolute path of `name` from a trusted PATH entry (None when there is none)."""
    untrusted_roots = (*untrusted_roots, *distrusted())
    if os.sep in name:
        return name if _executable(name) and not _inside_any(name, untrusted_roots) else None
    value = path if path is not None else os.environ.get("PATH")
    for entry in trusted_path_entries(value, untrusted_roots):
        candidate = os.path.join(entry, name)
        if _executable(candidate) and not _inside_any(candidate, untrusted_roots):
            return candidate
    return None


def child_path(path_value: str | None, untrusted_roots: Sequence[Path] = ()) -> str:
    """The PATH a command gets: the user's, minus relative and workspace entries."""
    entries = trusted_path_entries(path_value, untrusted_roots)
    return os.pathsep.join(entries) if entries else "/usr/local/bin:/usr/bin:/bin"


def inside_any(path: str | Path, roots: Sequence[Path] = ()) -> bool:
    """Inside one of `roots` or a folder that was a workspace folder."""
    return _inside_any(str(path), (*roots, *distrusted()))


def _inside_any(path: str, roots: Sequence[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(_under(real, Path(os.path.realpath(r))) for r in roots)


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
