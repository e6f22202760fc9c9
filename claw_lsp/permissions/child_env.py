"""The environment for commands the agent runs: an allowlist, never a copy of ours.

Secrets reach a child only if the user passes a name through AND the name does not look like a
secret; even then names matching *KEY*, *TOKEN*, ... are dropped, because a model that can run
`env` or `curl -d "$X"` can read anything in its environment.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path

from claw_lsp.permissions.git_facts import forced_git_env
from claw_lsp.permissions.programs import child_path

_ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",
        "TERM",
        "USER",
        "LOGNAME",
        "SHELL",
        "TMPDIR",
        "TZ",
        "PWD",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYTHONPATH",
        "CI",
        "COLORTERM",
        "NO_COLOR",
    }
)
_ALLOWED_PREFIXES = ("LC_",)
_SECRET_PATTERNS = ("*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*CREDENTIAL*", "*PASS*")
# Dropped even when passed through: they hand the child our agents and prompts.
_NEVER_PASSED = frozenset({"SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS"})

# Interactive programs must fail fast instead of waiting for a user who cannot answer (RE-07);
# git runs with the repository's program-running settings forced off (git_facts.py).
_FORCED: dict[str, str] = {
    "EDITOR": "true",
    "VISUAL": "true",
    "PAGER": "cat",
    "DEBIAN_FRONTEND": "noninteractive",
    "CLAW_LSP_AGENT": "1",
    **forced_git_env(),
}


def is_secret_name(name: str, extra_deny_patterns: Sequence[str] = ()) -> bool:
    upper = name.upper()
    patterns = (*_SECRET_PATTERNS, *(p.upper() for p in extra_deny_patterns))
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in patterns)


def build_child_env(
    parent: Mapping[str, str],
    *,
    passthrough: Sequence[str] = (),
    extra_deny_patterns: Sequence[str] = (),
    untrusted_roots: Sequence[Path] = (),
    sandboxed: bool = False,
) -> dict[str, str]:
    """Allowlisted names from `parent` plus the user's passthrough names/globs, minus secrets.
    PATH loses its relative entries and those inside `untrusted_roots` (the workspace folders),
    so `git` or `ls` is never a program the repository planted."""
    wanted = [p for p in passthrough if p]
    env: dict[str, str] = {}
    for name, value in parent.items():
        allowed = (
            name in _ALLOWED_NAMES
            or name.startswith(_ALLOWED_PREFIXES)
            or any(fnmatch.fnmatchcase(name, pattern) for pattern in wanted)
        )
        if not allowed or name in _NEVER_PASSED or name.startswith("GIT_CONFIG"):
            continue
        if is_secret_name(name, extra_deny_patterns):
            continue
        env[name] = value
    env.update(_FORCED)
    env["PATH"] = child_path(parent.get("PATH"), untrusted_roots)
    if sandboxed:
        env["TMPDIR"] = "/tmp"  # the host's may not exist inside
    return env
