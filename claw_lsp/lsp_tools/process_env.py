"""The environment of a language server claw starts: ours minus anything that looks like a
secret. Language servers run project code (build scripts, proc macros, plugins), so they
never get the API key or other credentials."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from claw_lsp.permissions.child_env import is_secret_name

_NEVER_PASSED = frozenset({"SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS"})


def language_server_env(
    parent: Mapping[str, str], passthrough: Sequence[str] = ()
) -> dict[str, str]:
    """Toolchains need their own variables (GOPATH, CARGO_HOME, VIRTUAL_ENV ...), so this is
    our environment minus secrets, not the shell tool's allowlist. A name the user passes
    through (envPassthrough) is kept unless it looks like a secret."""
    env: dict[str, str] = {}
    for name, value in parent.items():
        if name in _NEVER_PASSED or name.startswith(("CLAW_", "OPENAI_")):
            continue
        if is_secret_name(name) and not any(fnmatch.fnmatchcase(name, p) for p in passthrough):
            continue
        env[name] = value
    return env
