"""How a configured server is started: `${VAR}` expansion, the scrubbed environment, the cwd.

A stdio server gets the environment every command claw runs gets (an allowlist with secrets
removed, permissions/child_env.py) plus the `env` of its own entry, and nothing else: the API
key and the editor's environment never reach it. `${VAR}` and `${VAR:-default}` in the
command, args, env, cwd, url and headers read claw's own environment (as in Claude Code's
.mcp.json); a value read from a variable whose name looks secret is masked from then on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from claw_lsp.config.mcp_servers import McpServerSpec
from claw_lsp.foundation.secrets import register_secret
from claw_lsp.permissions.child_env import build_child_env, is_secret_name

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEY_WORDS = ("KEY", "SECRET", "TOKEN", "PASS", "AUTH", "COOKIE", "CREDENTIAL")


class LaunchError(ValueError):
    """The entry cannot be started as written (the message is for the user)."""


@dataclass(frozen=True)
class Launch:
    spec: McpServerSpec
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: Path | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


def resolve_launch(
    spec: McpServerSpec,
    *,
    parent_env: Mapping[str, str] | None = None,
    passthrough: tuple[str, ...] = (),
    base_dir: Path | None = None,
) -> Launch:
    """`base_dir`: where a relative cwd starts and the default cwd (the project folder)."""
    parent = dict(os.environ if parent_env is None else parent_env)

    def expand(text: str, where: str, secret: bool = False) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = parent.get(name)
            if value is None:
                if default is None:
                    raise LaunchError(f"mcpServers.{spec.name}.{where} needs ${{{name}}}: not set")
                value = default
            if secret or is_secret_name(name):
                register_secret(value)
            return value

        return _REFERENCE.sub(replace, text)

    if spec.transport == "http":
        headers = {
            key: expand(value, f"headers.{key}", _secretish(key)) for key, value in spec.headers
        }
        url = expand(spec.url, "url")
        if not url.startswith(("http://", "https://")):
            raise LaunchError(f"mcpServers.{spec.name}.url must be http:// or https://")
        return Launch(spec, url=url, headers=headers)
    env = build_child_env(parent, passthrough=passthrough)
    env.update({key: expand(value, f"env.{key}", _secretish(key)) for key, value in spec.env})
    cwd = base_dir
    if spec.cwd:
        raw = Path(expand(spec.cwd, "cwd")).expanduser()
        cwd = raw if raw.is_absolute() or base_dir is None else base_dir / raw
    if cwd is not None and not cwd.is_dir():
        raise LaunchError(f"mcpServers.{spec.name}.cwd {cwd} is not a directory")
    command = expand(spec.command, "command")
    args = tuple(expand(arg, f"args[{n}]") for n, arg in enumerate(spec.args))
    return Launch(spec, command=command, args=args, env=env, cwd=cwd)


def _secretish(key: str) -> bool:
    return any(word in key.upper() for word in _SECRET_KEY_WORDS)
