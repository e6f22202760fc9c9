"""Path confinement: the one place that turns a model- or editor-supplied path into a real path
inside a workspace folder, and says whether it is protected or sensitive.

Rule (SECURITY.md invariant 3): decode, normalise, resolve the deepest existing ancestor by real
path, then compare whole components against the canonical roots. The same rule serves every tool
and every URI the server accepts.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from claw_lsp.permissions.git_facts import repo_facts
from claw_lsp.permissions.programs import distrust
from claw_lsp.permissions.protected import (
    PROTECTED_DIR_NAMES,
    PROTECTED_FILE_PATTERNS,
    git_dir_shape_reason,
    home_reason,
    static_reason,
    within,
)

# Kept for callers that list the protected names (docs, tests); the rule is protected.py's.
PROTECTED_DIRS = tuple(sorted(PROTECTED_DIR_NAMES))
PROTECTED_GLOBS = PROTECTED_FILE_PATTERNS

MAX_PATH_CHARS = 4096

SENSITIVE_GLOBS = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".git-credentials",
    ".npmrc",
    ".netrc",
    ".pypirc",
    "credentials",
    "credentials.json",
    "*.keystore",
    ".htpasswd",
)


# Directories whose every file is a credential (a home folder opened as a workspace).
SENSITIVE_DIRS = (".ssh", ".aws", ".gnupg", ".kube", ".azure", ".docker", ".password-store")


class PathDenied(Exception):
    """A path the agent may not touch; the message is model-facing and echoes no file content."""


@dataclass(frozen=True)
class Root:
    uri: str
    name: str
    client_path: Path  # as the editor names it (may be a symlink)
    real_path: Path  # canonical, resolved once when the folder was added


@dataclass(frozen=True)
class ResolvedPath:
    path: Path  # real path (deepest existing ancestor resolved, missing tail appended)
    root: Root
    relative: str  # posix, relative to the root ("." for the root itself)

    @property
    def uri(self) -> str:
        """The URI in the editor's own spelling of the root (a symlinked workspace stays as is)."""
        if self.relative == ".":
            return self.root.uri
        return (self.root.client_path / self.relative).as_uri()

    @property
    def exists(self) -> bool:
        return os.path.lexists(self.path)


def uri_to_path(uri: str) -> Path:
    """A local file URI to a path; other schemes and remote hosts are refused."""
    if "\x00" in uri:
        raise PathDenied("invalid URI (NUL byte)")
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise PathDenied(f"unsupported URI scheme {parsed.scheme!r}: only local files are handled")
    if parsed.netloc not in ("", "localhost"):
        raise PathDenied("remote file URIs (file://host/...) are not supported")
    path = unquote(parsed.path)
    if "\x00" in path:
        raise PathDenied("invalid path (NUL byte)")
    return Path(path)


def make_root(uri: str, name: str | None = None) -> Root:
    client = uri_to_path(uri)
    real = Path(os.path.realpath(client))
    return Root(
        uri=uri, name=name or client.name or str(client), client_path=client, real_path=real
    )


def resolve_real(path: Path) -> Path:
    """Real path of the deepest existing ancestor, with the missing tail appended verbatim."""
    path = Path(os.path.abspath(path))
    missing: list[str] = []
    current = path
    while not os.path.lexists(current):
        if current.parent == current:
            break
        missing.append(current.name)
        current = current.parent
    real = Path(os.path.realpath(current))
    for part in reversed(missing):
        real = real / part
    return real


@dataclass
class Workspace:
    """The live list of workspace folders. Shared by reference, so a folder removed by the
    editor is refused immediately, also inside a turn that is already running."""

    roots: list[Root] = field(default_factory=list)
    extra_protected: tuple[str, ...] = ()
    protected_real_dirs: tuple[Path, ...] = ()  # e.g. the state directory

    def __post_init__(self) -> None:
        for root in self.roots:
            distrust(root.real_path)

    def add(self, root: Root) -> None:
        distrust(root.real_path)  # no program the server starts comes from a workspace folder
        self.roots = [r for r in self.roots if r.real_path != root.real_path] + [root]

    def remove(self, uri: str) -> None:
        try:
            real = Path(os.path.realpath(uri_to_path(uri)))
        except PathDenied:
            return
        self.roots = [r for r in self.roots if r.uri != uri and r.real_path != real]

    def root_for_real(self, real: Path) -> Root | None:
        best: Root | None = None
        for root in self.roots:
            inside = real == root.real_path or real.is_relative_to(root.real_path)
            if inside and (best is None or len(root.real_path.parts) > len(best.real_path.parts)):
                best = root
        return best

    def root_for_uri(self, uri: str) -> Root | None:
        for root in self.roots:
            if root.uri.rstrip("/") == uri.rstrip("/"):
                return root
        try:
            return self.root_for_real(resolve_real(uri_to_path(uri)))
        except PathDenied:
            return None

    def resolve(self, raw: str, *, base: Root | None = None) -> ResolvedPath:
        check_raw_path(raw)
        if not self.roots:
            raise PathDenied("no workspace folder is open")
        if base is not None and base not in self.roots:
            # The folder this turn works in was removed by the editor: nothing falls back to
            # another folder (PC-14).
            raise PathDenied(f"workspace folder {base.name} is no longer open")
        base = base if base is not None else self.roots[0]
        candidate = Path(raw)
        if not candidate.is_absolute():
            candidate = base.real_path / candidate
        elif not any(_lexically_under(candidate, r) for r in self.roots):
            raise PathDenied(f"{raw} is outside the workspace folders")
        else:
            candidate = _to_real_spelling(candidate, self.roots)
        try:
            real = resolve_real(candidate)
        except (OSError, ValueError) as exc:
            raise PathDenied(f"invalid path {raw!r}: {type(exc).__name__}") from None
        root = self.root_for_real(real)
        if root is None:
            raise PathDenied(f"{raw} is outside the workspace folders")
        relative = real.relative_to(root.real_path).as_posix() or "."
        return ResolvedPath(path=real, root=root, relative=relative)

    def resolve_uri(self, uri: str) -> ResolvedPath:
        return self.resolve(str(uri_to_path(uri)))

    def protected_reason(
        self,
        target: ResolvedPath,
        extra: Sequence[str] = (),
        cache: dict[Path, tuple[Path, ...]] | None = None,
    ) -> str | None:
        """Why `target` needs a per-change approval below unsafe (None: it does not). `extra`
        is the user's own list (user-level settings, never the workspace's)."""
        return protected_path_reason(
            target.path,
            target.root.real_path,
            [r.real_path for r in self.roots],
            extra_globs=(*self.extra_protected, *extra),
            extra_dirs=self.protected_real_dirs,
            cache=cache,
        )

    def sensitive(self, target: ResolvedPath) -> bool:
        return is_sensitive_relative(target.relative)


def protected_path_reason(
    path: Path,
    root: Path,
    roots: Sequence[Path],
    *,
    extra_globs: Sequence[str] = (),
    extra_dirs: Sequence[Path] = (),
    cache: dict[Path, tuple[Path, ...]] | None = None,
) -> str | None:
    """The one protected-path rule (protected.py) for a real path inside the folder `root`:
    protected names, the directories the repository's git uses (a `.git` file's target, the
    common dir, core.hooksPath), directories shaped like a git repository, the home folder's
    dotfiles when it is open as a workspace folder, and claw-lsp's own directories. `cache`
    keeps the per-folder directories for the many targets of one shell command."""
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    reason = static_reason(relative, extra_globs)
    if reason:
        return reason
    guarded = cache.get(root) if cache is not None else None
    if guarded is None:
        guarded = (*extra_dirs, claw_config_dir(), *gitdir_targets(root))
        guarded += repo_facts(root, roots).protected_dirs
        if cache is not None:
            cache[root] = guarded
    for directory in guarded:
        if within(path, directory):
            return f"{relative} is inside a protected directory"
    return home_reason(path, roots) or git_dir_shape_reason(path, root) or hard_link_reason(path)


def hard_link_reason(path: Path) -> str | None:
    """A file with other hard links: an editor saves it in place, so the change reaches every
    other name of it, which may be outside the workspace (a package manager's store, a file
    linked by an earlier command)."""
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISREG(status.st_mode) and status.st_nlink > 1:
        return (
            f"{path.name} has {status.st_nlink} hard links; changing it changes the other names too"
        )
    return None


def claw_config_dir() -> Path:
    """The user-level configuration directory: a workspace that contains it (a home folder
    opened as a workspace) must not let the agent rewrite its own tier or rules."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(os.path.realpath(Path(base) / "claw-lsp"))


def is_sensitive_relative(relative: str) -> bool:
    """A credential-like file name, or anything inside a credential store directory."""
    parts = [p.lower() for p in PurePosixPath(relative).parts]
    return bool(parts) and (is_sensitive_name(parts[-1]) or any(p in SENSITIVE_DIRS for p in parts))


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatch(lowered, pattern) for pattern in SENSITIVE_GLOBS)


def check_raw_path(raw: str) -> None:
    if not isinstance(raw, str) or not raw.strip():
        raise PathDenied("path is empty")
    if len(raw) > MAX_PATH_CHARS:
        raise PathDenied(f"path is longer than {MAX_PATH_CHARS} characters")
    if any(ch in raw for ch in ("\x00", "\r", "\n")):
        raise PathDenied("path contains a NUL or line-break character")


def _lexically_under(path: Path, root: Root) -> bool:
    normal = Path(os.path.normpath(path))
    return any(
        normal == base or normal.is_relative_to(base) for base in (root.client_path, root.real_path)
    )


def _to_real_spelling(path: Path, roots: Sequence[Root]) -> Path:
    normal = Path(os.path.normpath(path))
    for root in roots:
        if normal == root.client_path or normal.is_relative_to(root.client_path):
            return root.real_path / normal.relative_to(root.client_path)
    return normal


def gitdir_targets(root: Path) -> tuple[Path, ...]:
    """A `.git` pointer file (worktrees, submodules) names the real git dir: protect it too.
    Read directly as well as asked of git, so a pointer git refuses is still covered."""
    return tuple(_gitdir_pointer(root))


def _gitdir_pointer(root: Path) -> Iterable[Path]:
    pointer = root / ".git"
    try:
        if pointer.is_file():
            text = pointer.read_text(encoding="utf-8", errors="replace")[:4096]
            for line in text.splitlines():
                if line.startswith("gitdir:"):
                    target = Path(line.split(":", 1)[1].strip())
                    if not target.is_absolute():
                        target = root / target
                    yield Path(os.path.realpath(target))
    except OSError:
        return
