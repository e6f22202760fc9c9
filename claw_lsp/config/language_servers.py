"""The `languageServers` setting (issue 16): language servers claw starts itself, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claw_lsp.config.settings import ConfigError, LanguageServerConfig

_LANGUAGE_SERVER_KEYS = frozenset(
    {"command", "filetypes", "extensions", "initializationOptions", "settings"}
)


def parse_language_servers(raw: Any) -> dict[str, LanguageServerConfig]:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "languageServers must map a name to {command: [...], extensions: [...]}, e.g. "
            '{"python": {"command": ["jedi-language-server"], "extensions": [".py"]}}'
        )
    out: dict[str, LanguageServerConfig] = {}
    for name, spec in raw.items():
        where = f"languageServers.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where} must be a table with command and filetypes/extensions")
        unknown = sorted(set(spec) - _LANGUAGE_SERVER_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        command = spec.get("command")
        if isinstance(command, str):
            command = [command]
        if (
            not isinstance(command, list | tuple)
            or not command
            or not all(isinstance(part, str) and part for part in command)
        ):
            raise ConfigError(f"{where}.command must be a non-empty list of strings (argv)")
        filetypes = _string_list(spec.get("filetypes"), f"{where}.filetypes")
        extensions = tuple(
            e if e.startswith(".") else f".{e}"
            for e in _string_list(spec.get("extensions"), f"{where}.extensions")
        )
        if not filetypes and not extensions:
            raise ConfigError(f"{where} needs filetypes or extensions (which files it covers)")
        settings = spec.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise ConfigError(f"{where}.settings must be a table")
        out[str(name)] = LanguageServerConfig(
            name=str(name),
            command=tuple(command),
            filetypes=filetypes,
            extensions=tuple(e.lower() for e in extensions),
            initialization_options=spec.get("initializationOptions"),
            settings=dict(settings),
        )
    return out


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)
