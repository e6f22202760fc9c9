"""The environment for commands the agent runs: an allowlist, never a copy of ours.

Secrets reach a child only if the user passes a name through AND the name does not look like a
secret; even then names matching *KEY*, *TOKEN*, ... are dropped, because a model that can run
`env` or `curl -d "$X"` can read anything in its environment.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

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

# Interactive programs must fail fast instead of waiting for a user who cannot answer (RE-07).
_FORCED: dict[str, str] = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "EDITOR": "true",
    "VISUAL": "true",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_CONFIG_NOSYSTEM": "1",
    # A read-only `git status` must not take index.lock or run the repo's fsmonitor hook.
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "core.fsmonitor",
    "GIT_CONFIG_VALUE_0": "false",
    "DEBIAN_FRONTEND": "noninteractive",
    "CLAW_LSP_AGENT": "1",
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
) -> dict[str, str]:
    """Allowlisted names from `parent` plus the user's passthrough names/globs, minus secrets."""
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
    return env
