"""Raw options from each source -> one validated, frozen Settings.

Precedence, low to high: built-in defaults < user config file < environment < LSP
initializationOptions < workspace/configuration < command line. Security-relevant keys (the
schema's `security=True` fields) are never taken from workspace/configuration, because editors
fill that section from workspace files (.vscode/settings.json) that a hostile repository controls;
they come only from user-level sources and initializationOptions, which the editor client builds
from user-level settings. A key no setting has is ignored with a warning that names it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from claw_lsp.config.schema import ClawOptions
from claw_lsp.config.settings import ConfigError, Settings
from claw_lsp.config.sources import camel

WORKSPACE = "workspace configuration"
INIT_OPTIONS = "initializationOptions"
# initializationOptions also carries what the client can do; not settings, and not unknown.
INIT_ONLY_KEYS = frozenset({"clientCapabilities"})
# Several clients nest their options: `init_options = { claw = {...} }`.
NESTED_KEY = "claw"


def option_keys() -> dict[str, str]:
    """camelCase key -> Settings attribute, for every setting."""
    return {info.alias or name: name for name, info in ClawOptions.model_fields.items()}


def security_keys() -> frozenset[str]:
    return frozenset(
        info.alias or name
        for name, info in ClawOptions.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("security")
    )


def resolve_settings(
    *,
    user_file: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    init_options: Mapping[str, Any] | None = None,
    workspace_config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources in precedence order and validate every value."""
    known, security = option_keys(), security_keys()
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for name, layer in (
        ("config file", user_file),
        ("environment", env),
        (INIT_OPTIONS, _flattened(init_options, warnings)),
        (WORKSPACE, workspace_config),
        ("command line", overrides),
    ):
        for raw_key, value in (layer or {}).items():
            key = camel(str(raw_key))
            if key not in known:
                if not (name == INIT_OPTIONS and key in INIT_ONLY_KEYS):
                    warnings.append(unknown_key_warning(str(raw_key), name, known))
                continue
            if value is None or (name == WORKSPACE and key in security):
                continue
            merged[key] = value
            sources[key] = name
    options = _validate(merged)
    values = {name: getattr(options, name) for name in options.model_fields_set}
    if "base_url" in values:
        values["backend_source"] = sources.get("baseUrl", "config")
    return Settings(**values, warnings=tuple(dict.fromkeys(warnings)))


def unknown_key_warning(key: str, source: str, known: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(camel(key), list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown setting {key!r} in {source} ignored{hint}"


def _flattened(options: Mapping[str, Any] | None, warnings: list[str]) -> Mapping[str, Any] | None:
    """`{claw: {...}}` is read like the flat form; a nested key wins over a flat one."""
    if not options or NESTED_KEY not in options:
        return options
    nested = options[NESTED_KEY]
    flat = {k: v for k, v in options.items() if k != NESTED_KEY}
    if not isinstance(nested, Mapping):
        warnings.append(f"{INIT_OPTIONS}.{NESTED_KEY} must be a table of settings; ignored")
        return flat
    return {**flat, **nested}


def _validate(merged: Mapping[str, Any]) -> ClawOptions:
    try:
        return ClawOptions.model_validate(merged)
    except ValidationError as exc:
        # The first problem, named by its key; never pydantic's text (it repeats the input).
        raise ConfigError(_message(exc.errors(include_url=False)[0])) from None


def _message(error: ErrorDetails) -> str:
    key = str(error["loc"][0]) if error["loc"] else "settings"
    kind, value = error["type"], error.get("input")
    field = ClawOptions.model_fields.get(option_keys().get(key, ""))
    shown = "(hidden)" if key == "apiKey" else repr(value)
    if kind in ("greater_than_equal", "less_than_equal") and field is not None:
        low, high = _bounds(field.metadata)
        return f"{key} must be between {low} and {high}, got {value}"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "finite_number"):
        return f"{key} must be a number, got {shown}"
    if kind == "int_from_float":
        return f"{key} must be a whole number, got {shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{key} must be true or false, got {shown}"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{key} must be one of {expected.replace(' or ', ', ')}, got {shown}"
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        if message.startswith("must"):
            return f"{key} {message}, got {shown}"
        return message if message.startswith(key) else f"{key}: {message}"
    return f"{key}: {error['msg']}"


def _bounds(metadata: list[Any]) -> tuple[Any, Any]:
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    return low, high
