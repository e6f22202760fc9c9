"""Git as the repository sees it, and git as the agent may run it.

Every git the agent starts gets forced configuration (command-line scope, above the
repository's own): no fsmonitor, hooks path /dev/null, no pager, bare repositories only when
named explicitly, no `ext::` transport, no askpass helper. What cannot be neutralised without
breaking git (an external diff, a textconv, a filter, a credential helper ...) is found by
asking git itself which keys the repository's configuration sets (its includes followed), so
that a command whose repository names a program asks first instead of running it.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from claw_lsp.permissions.programs import child_path, trusted_which

FORCED_GIT_CONFIG = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),
    ("core.askPass", ""),
    ("safe.bareRepository", "explicit"),
    ("protocol.ext.allow", "never"),
)
_FORCED_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_PAGER": "cat",
    # No askpass helper: core.askPass is forced empty, and "" stops git's fallback chain.
    "SSH_ASKPASS_REQUIRE": "never",
    # A read-only `git status` must not take index.lock.
    "GIT_OPTIONAL_LOCKS": "0",
}

# Repository-level keys whose value is a program git (or git-lfs) runs, or that moves where git
# reads and writes. fnmatch on the lower-cased key; ("alias.*", "!") means: only when the value
# starts with "!".
_PROGRAM_KEY_PATTERNS = (
    "core.fsmonitor", "core.hookspath", "core.sshcommand", "core.askpass", "core.editor",
    "core.pager", "core.gitproxy", "core.alternaterefscommand", "core.worktree",
    "diff.external", "diff.*.command", "diff.*.textconv", "diff.tool", "diff.guitool",
    "difftool.*.cmd", "difftool.*.path", "merge.*.driver", "merge.tool", "merge.guitool",
    "mergetool.*.cmd", "mergetool.*.path", "filter.*.clean", "filter.*.smudge",
    "filter.*.process", "sequence.editor", "pager.*", "credential.helper",
    "credential.*.helper", "gpg.program", "gpg.*.program", "gpg.ssh.defaultkeycommand",
    "remote.*.uploadpack", "remote.*.receivepack", "remote.*.vcs", "protocol.*.allow",
    "web.browser", "browser.*.cmd", "browser.*.path", "man.viewer", "man.*.cmd",
    "man.*.path", "sendemail.smtpserver", "sendemail.tocmd", "sendemail.cccmd",
    "sendemail.headercmd", "instaweb.*", "uploadpack.packobjectshook", "trailer.*.command",
    "trailer.*.cmd", "lfs.customtransfer.*.path", "lfs.extension.*.clean",
    "lfs.extension.*.smudge", "lfs.standalonetransferagent", "uploadarchive.*",
    "receive.procreceiverefs",
)  # fmt: skip
PROGRAM_KEYS: tuple[tuple[str, str], ...] = (
    *((pattern, "") for pattern in _PROGRAM_KEY_PATTERNS),
    ("alias.*", "!"),
    ("submodule.*.update", "!"),
)

_PROBE_TIMEOUT_S = 5.0
# What git says (LC_ALL=C) when there is simply no repository it would use.
_NO_REPOSITORY = ("not a git repository", "cannot use bare repository")
_REPO_SCOPES = ("local", "worktree")


def forced_git_env(*, keep_hooks_path: bool = False) -> dict[str, str]:
    """The environment entries that force git's configuration for a command."""
    pairs = [p for p in FORCED_GIT_CONFIG if keep_hooks_path is False or p[0] != "core.hooksPath"]
    env = dict(_FORCED_GIT_ENV)
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


@dataclass(frozen=True)
class RepoFacts:
    git_dir: Path | None = None
    common_dir: Path | None = None
    hooks_dir: Path | None = None
    program_keys: tuple[tuple[str, str], ...] = ()  # (key, value) the repository sets
    error: str | None = None  # the probe itself failed (timeout): treat the repository as unknown
    origins: tuple[Path, ...] = ()

    @property
    def protected_dirs(self) -> tuple[Path, ...]:
        return tuple(d for d in (self.git_dir, self.common_dir, self.hooks_dir) if d is not None)


def names_program(key: str, value: str) -> bool:
    lowered = key.lower()
    for pattern, prefix in PROGRAM_KEYS:
        if fnmatch.fnmatchcase(lowered, pattern) and value.lstrip().startswith(prefix):
            return True
    return False


_cache: dict[Path, tuple[tuple[object, ...], RepoFacts]] = {}
_cache_lock = threading.Lock()


def repo_facts(cwd: Path, untrusted_roots: Sequence[Path] = ()) -> RepoFacts:
    """What git would use as the repository in `cwd`, asked of git itself (cached until a
    `.git` on the way up or one of the configuration files it read changes)."""
    cwd = Path(os.path.realpath(cwd))
    with _cache_lock:
        cached = _cache.get(cwd)
    if cached is not None and cached[0] == _signature(cwd, cached[1].origins):
        return cached[1]
    facts = _probe(cwd, untrusted_roots)
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[cwd] = (_signature(cwd, facts.origins), facts)
    return facts


def _signature(cwd: Path, origins: Sequence[Path]) -> tuple[object, ...]:
    stamps: list[object] = []
    for directory in (cwd, *cwd.parents):
        stamps.append(_stamp(directory / ".git"))
    for origin in origins:
        stamps.append(_stamp(origin))
    return tuple(stamps)


def _stamp(path: Path) -> object:
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _probe(cwd: Path, untrusted_roots: Sequence[Path]) -> RepoFacts:
    git = trusted_which("git", untrusted_roots=untrusted_roots)
    if git is None or not cwd.is_dir():
        return RepoFacts()
    env = {
        "PATH": child_path(os.environ.get("PATH"), untrusted_roots),
        "HOME": os.environ.get("HOME", "/"),
        "LC_ALL": "C",
        **forced_git_env(keep_hooks_path=True),
    }
    try:
        layout, why = _run([git, "rev-parse", "--absolute-git-dir", "--git-common-dir",
                            "--git-path", "hooks"], cwd, env)  # fmt: skip
        if layout is None:
            # Only "there is no repository here" is harmless; a repository git fails to read
            # (a broken include, say) is unknown, not safe.
            no_repository = any(m in why for m in _NO_REPOSITORY)
            return RepoFacts() if no_repository else RepoFacts(error="git cannot read it")
        listing, _ = _run([git, "config", "--list", "--show-scope", "--show-origin",
                           "--includes", "-z"], cwd, env)  # fmt: skip
    except subprocess.TimeoutExpired:
        return RepoFacts(error="git did not answer in time")
    lines = layout.decode("utf-8", "surrogateescape").splitlines()
    git_dir, common, hooks = (_absolute(cwd, line) for line in [*lines, "", "", ""][:3])
    if listing is None:  # a repository whose configuration git cannot list is not judged safe
        return RepoFacts(git_dir, common, hooks, error="git could not list its configuration")
    keys, origins = _repo_keys(listing, cwd)
    return RepoFacts(git_dir, common, hooks, keys, origins=origins)


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[bytes | None, str]:
    """stdout (None when git failed) and stderr."""
    completed = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=_PROBE_TIMEOUT_S,
        check=False,
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    return (completed.stdout if completed.returncode == 0 else None), stderr


def _absolute(cwd: Path, line: str) -> Path | None:
    if not line.strip():
        return None
    return Path(os.path.realpath(cwd / line.strip()))


def _repo_keys(listing: bytes, cwd: Path) -> tuple[tuple[tuple[str, str], ...], tuple[Path, ...]]:
    fields = listing.decode("utf-8", "surrogateescape").split("\0")
    keys: list[tuple[str, str]] = []
    origins: dict[Path, None] = {}
    for index in range(0, len(fields) - 2, 3):
        scope, origin, entry = fields[index], fields[index + 1], fields[index + 2]
        if scope not in _REPO_SCOPES:
            continue
        source = Path(os.path.realpath(cwd / origin[5:])) if origin.startswith("file:") else None
        if source is not None:
            origins[source] = None
        key, _, value = entry.partition("\n")
        lowered = key.lower()
        if source is not None and lowered.startswith("include") and lowered.endswith(".path"):
            # An included file that does not exist yet must still invalidate the cache.
            included = Path(os.path.expanduser(value))
            origins[Path(os.path.realpath(source.parent / included))] = None
        if names_program(key, value):
            keys.append((key, value))
    return tuple(keys), tuple(origins)


def describe_program_keys(keys: Sequence[tuple[str, str]], limit: int = 3) -> str:
    shown = ", ".join(f"{key}={value[:60]!r}" for key, value in keys[:limit])
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return f"the repository's git config names a program ({shown}{more})"
