"""What the sandbox mounts for one command, decided from the workspace and the tiers.

- Only the folders whose tier allows writing are writable; the others are read-only.
- Inside a writable folder, protected entries that exist (found by a bounded walk with the one
  protected-path rule), files with more than one hard link, and the git directories the
  repository uses are re-mounted read-only. Protected top-level names that do not exist get a
  read-only placeholder for the command's lifetime: bwrap creates an empty mount point on the
  host for each, and `remove_placeholders` deletes them afterwards (a ledger in the state
  directory finishes the job after a crash).
- $HOME is an empty tmpfs except the toolchains the command's PATH runs from (read-only).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from claw_lsp.permissions.git_facts import repo_facts
from claw_lsp.permissions.paths import claw_config_dir, gitdir_targets
from claw_lsp.permissions.programs import trusted_path_entries
from claw_lsp.permissions.protected import (
    HOME_PLACEHOLDER_DIRS,
    HOME_PLACEHOLDERS,
    PLACEHOLDER_DIRS,
    PLACEHOLDER_FILES,
    PLACEHOLDER_GROUPS,
    real_home,
    static_reason,
    within,
)

MAX_WALKED = 20_000
MAX_DEPTH = 8
MAX_PROTECTED_MOUNTS = 512
# Written by package managers on purpose, and huge: not walked (documented in security.md).
UNWALKED_DIRS = frozenset({"node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox"})
# Home folders that hold a toolchain the PATH runs from; bound whole, read-only.
TOOLCHAIN_ROOTS = frozenset(
    {".pyenv", ".rbenv", ".nodenv", ".goenv", ".nvm", ".volta", ".bun", ".deno", ".cargo",
     ".rustup", ".sdkman", ".asdf", ".juliaup", ".ghcup", ".elan", "go", ".dotnet"}
)  # fmt: skip
_COMPANIONS = {".cargo": (".rustup",)}
# Credentials under $HOME, hidden again wherever a mount above makes them visible.
HIDDEN_HOME_ENTRIES = (
    ".ssh", ".aws", ".gnupg", ".config/gcloud", ".azure", ".kube", ".docker", ".netrc",
    ".git-credentials", ".npmrc", ".pypirc", ".cargo/credentials", ".cargo/credentials.toml",
    ".config/gh", ".config/hub", ".password-store", ".local/share/keyrings", ".gem/credentials",
    ".vault-token", ".terraform.d/credentials.tfrc.json", ".m2/settings.xml",
)  # fmt: skip
HIDDEN_SYSTEM_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
EXPOSED_SYSTEM = ("/usr", "/etc", "/opt", "/nix", "/snap", "/sys")


@dataclass(frozen=True)
class Placeholder:
    path: Path
    is_dir: bool
    source: Path | None = None  # the file shown inside (None: an empty one)


@dataclass
class SandboxPlan:
    writable: list[Path] = field(default_factory=list)
    read_only: list[Path] = field(default_factory=list)
    protected: list[Path] = field(default_factory=list)  # existing entries re-mounted read-only
    placeholders: list[Placeholder] = field(default_factory=list)
    home: Path = field(default_factory=real_home)
    home_binds: list[Path] = field(default_factory=list)
    hidden: list[Path] = field(default_factory=list)
    network: bool = False

    def missing_placeholders(self) -> list[Path]:
        return [p.path for p in self.placeholders if not os.path.lexists(p.path)]


def plan_sandbox(
    *,
    writable: Sequence[Path],
    read_only: Sequence[Path],
    hidden_dirs: Sequence[Path] = (),
    path_value: str | None = None,
    network: bool = False,
) -> SandboxPlan:
    """The mounts for a command: `writable`/`read_only` are the workspace folders by tier,
    `hidden_dirs` claw-lsp's own directories (state, config), hidden whatever their place."""
    roots = [*writable, *read_only]
    plan = SandboxPlan(
        writable=_real_all(writable), read_only=_real_all(read_only), network=network
    )
    for root in plan.writable:
        _protect_root(root, roots, plan)
    plan.home_binds = _toolchains(plan.home, path_value, roots)
    hidden = [plan.home / entry for entry in HIDDEN_HOME_ENTRIES]
    hidden += [claw_config_dir(), *(Path(os.path.realpath(d)) for d in hidden_dirs)]
    hidden += [Path(p) for p in HIDDEN_SYSTEM_FILES]
    # Hidden again only where a mount makes them visible; under the empty $HOME or the
    # private /tmp they are not there to begin with.
    exposed = [*plan.writable, *plan.read_only, *plan.home_binds, *map(Path, EXPOSED_SYSTEM)]
    plan.hidden = [
        p
        for p in dict.fromkeys(hidden)
        if os.path.lexists(p) and any(within(p, mount) for mount in exposed)
    ]
    return plan


def _real_all(paths: Sequence[Path]) -> list[Path]:
    real = [Path(os.path.realpath(p)) for p in paths]
    return sorted(dict.fromkeys(real), key=lambda p: len(p.parts))


def _protect_root(root: Path, roots: Sequence[Path], plan: SandboxPlan) -> None:
    dynamic = [*gitdir_targets(root), *repo_facts(root, roots).protected_dirs]
    for directory in dynamic:
        if within(directory, root) and directory != root:
            if os.path.lexists(directory):
                plan.protected.append(directory)
            elif directory.parent.is_dir():
                plan.placeholders.append(Placeholder(directory, is_dir=True))
    plan.protected += _walk_protected(root)
    for name in PLACEHOLDER_DIRS:
        if not os.path.lexists(root / name):
            plan.placeholders.append(Placeholder(root / name, is_dir=True))
    for name in PLACEHOLDER_FILES:
        if not os.path.lexists(root / name):
            plan.placeholders.append(Placeholder(root / name, is_dir=False))
    for group in PLACEHOLDER_GROUPS:
        present = next((root / n for n in group if os.path.isfile(root / n)), None)
        for name in group:
            if not os.path.lexists(root / name):
                plan.placeholders.append(Placeholder(root / name, is_dir=False, source=present))
    home = plan.home
    if within(home, root):
        for name in HOME_PLACEHOLDERS:
            if not os.path.lexists(home / name) and home.is_dir():
                plan.placeholders.append(Placeholder(home / name, is_dir=False))
        for name in HOME_PLACEHOLDER_DIRS:
            if not os.path.lexists(home / name) and home.is_dir():
                plan.placeholders.append(Placeholder(home / name, is_dir=True))
        plan.protected += [Path(e.path) for e in _entries(home) if _home_protected(e.name)]
    plan.protected = list(dict.fromkeys(plan.protected))[:MAX_PROTECTED_MOUNTS]
    unique = {p.path: p for p in reversed(plan.placeholders)}
    plan.placeholders = [unique[path] for path in dict.fromkeys(p.path for p in plan.placeholders)]


def _home_protected(name: str) -> bool:
    return name.startswith(".") or name == "bin"


def _walk_protected(root: Path) -> list[Path]:
    """Existing protected entries and multiply linked files under `root` (bounded walk; a
    protected directory is mounted whole and not entered)."""
    found: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    seen = 0
    while stack and seen < MAX_WALKED and len(found) < MAX_PROTECTED_MOUNTS:
        directory, depth = stack.pop()
        for entry in _entries(directory):
            seen += 1
            path = Path(entry.path)
            relative = path.relative_to(root).as_posix()
            is_dir = entry.is_dir(follow_symlinks=False)
            if static_reason(relative) or (is_dir and _git_dir_shaped(path)):
                found.append(path)
            elif is_dir:
                if depth < MAX_DEPTH and entry.name not in UNWALKED_DIRS:
                    stack.append((path, depth + 1))
            elif entry.is_file(follow_symlinks=False) and _links(entry) > 1:
                found.append(path)
    return found


def _git_dir_shaped(path: Path) -> bool:
    names = {e.name.lower() for e in _entries(path)}
    return "head" in names and bool(names & {"objects", "refs"})


def _links(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_nlink
    except OSError:
        return 0


def _entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            yield from list(entries)
    except OSError:
        return


def _toolchains(home: Path, path_value: str | None, roots: Sequence[Path]) -> list[Path]:
    """The PATH entries under $HOME, each as the toolchain root that holds it (so a pyenv shim
    finds its versions) or as the directory itself (~/.local/bin)."""
    binds: dict[Path, None] = {}
    for entry in trusted_path_entries(path_value, roots):
        for path in (Path(os.path.normpath(entry)), Path(os.path.realpath(entry))):
            if path == home or not path.is_relative_to(home) or not path.is_dir():
                continue
            first = path.relative_to(home).parts[0]
            if first in TOOLCHAIN_ROOTS:
                binds[home / first] = None
                for companion in _COMPANIONS.get(first, ()):
                    if (home / companion).is_dir():
                        binds[home / companion] = None
            else:
                binds[path] = None
    return [p for p in binds if not within(p, claw_config_dir())]


# --- placeholders: sources, and removing the mount points bwrap leaves on the host ----------

_sources: dict[str, Path] = {}


def placeholder_source(name: str) -> Path:
    """A private read-only file shown at a placeholder: `{}` for JSON names (an empty
    package.json breaks node), else empty."""
    content = "{}\n" if name.lower().endswith(".json") else ""
    key = "json" if content else "empty"
    cached = _sources.get(key)
    if cached is not None and cached.exists():
        return cached
    directory = Path(tempfile.mkdtemp(prefix="claw-lsp-placeholders-"))
    path = directory / key
    path.write_text(content)
    path.chmod(0o444)
    _sources[key] = path
    return path


def record_placeholders(state_dir: Path, created: Sequence[Path]) -> Path | None:
    """Writes the ledger of mount points this command may leave; None when there are none."""
    if not created:
        return None
    ledger_dir = state_dir / "sandbox-placeholders"
    try:
        ledger_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ledger = ledger_dir / f"{os.getpid()}-{secrets.token_hex(6)}.json"
        ledger.write_text(json.dumps([str(p) for p in created]))
    except OSError:
        return None
    return ledger


def remove_placeholders(created: Sequence[Path], ledger: Path | None) -> None:
    """Removes the empty files and directories bwrap created as mount points."""
    for path in created:
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)  # only when empty
            elif os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) == 0:
                os.unlink(path)
    if ledger is not None:
        with contextlib.suppress(OSError):
            ledger.unlink()


def sweep_ledgers(state_dir: Path) -> None:
    """Finishes the cleanup of commands whose server died mid-run (their pid is gone)."""
    ledger_dir = state_dir / "sandbox-placeholders"
    for ledger in _ledgers(ledger_dir):
        pid = ledger.name.split("-", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or os.path.exists(f"/proc/{pid}")):
            continue
        try:
            created = [Path(p) for p in json.loads(ledger.read_text())]
        except (OSError, ValueError, TypeError):
            created = []
        remove_placeholders(created, ledger)


def _ledgers(directory: Path) -> list[Path]:
    try:
        return sorted(directory.glob("*.json"))
    except OSError:
        return []
