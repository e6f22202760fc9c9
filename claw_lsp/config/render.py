"""What generate.py writes, rendered from the options schema's JSON schema (one dict, so these are
plain functions of data): the table in docs/configuration.md, the VS Code extension's settings
and key lists, and the Neovim plugin's LuaCATS option types."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

COMMAND = "python -m claw_lsp.config.generate --write"
ORIGIN = f"Generated from claw_lsp/config/schema.py by `{COMMAND}`: do not edit."
USER_ONLY_NOTE = "Read from your user settings only; a workspace cannot set it."
# Settings of the VS Code extension itself (which program to start, how its chat input
# behaves): not server settings, kept in package.json as they are.
VSCODE_OWN_PREFIXES = ("claw.server.", "claw.chat.")

Prop = Mapping[str, Any]


def _plain(prop: Prop) -> Prop:
    """`X | None` as pydantic spells it (anyOf with null) -> X's own schema."""
    for variant in prop.get("anyOf", ()):
        if variant.get("type") != "null":
            return {**prop, **variant}
    return prop


def _nullable(prop: Prop) -> bool:
    return any(v.get("type") == "null" for v in prop.get("anyOf", ()))


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _default(prop: Prop) -> Any:
    """The default as an editor should show it (objects are `{}`, whatever holds them)."""
    plain = _plain(prop)
    if plain.get("type") == "object":
        return {}
    return prop.get("default", [] if plain.get("type") == "array" else None)


# -- docs/configuration.md -----------------------------------------------------------------


def _shown_default(prop: Prop) -> str:
    if "shownDefault" in prop:
        shown = str(prop["shownDefault"])
        return f"`{shown}`" if shown in ("{}", "[]") else shown
    value = _default(prop)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return f"`{value}`"
    return f"`{json.dumps(value)}`"


def _values(prop: Prop) -> str:
    plain = _plain(prop)
    if "enum" in plain:
        return ", ".join(f"`{v}`" for v in plain["enum"])
    kind = plain.get("type")
    if kind in ("integer", "number"):
        low, high = plain.get("minimum"), plain.get("maximum")
        unit = "whole number" if kind == "integer" else "number"
        if low is not None and high is not None:
            return f"{unit}, {_number(low)}–{_number(high)}"
        return unit
    if kind == "array":
        return "list of strings"
    if kind == "object":
        return "table"
    if kind == "boolean":
        return "`true`, `false`"
    return "path" if plain.get("format") == "path" else "string"


def docs_table(schema: Prop, env_names: Mapping[str, tuple[str, ...]]) -> str:
    rows = [
        "| key | default | values | environment | user-level only | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key, prop in schema["properties"].items():
        env = ", ".join(f"`{name}`" for name in env_names.get(key, ()))
        security = "yes" if prop.get("security") else ""
        meaning = str(prop.get("description", ""))
        choices = prop.get("choices") or {}
        if choices:
            values = _plain(prop)["enum"]
            meaning += " " + "; ".join(
                f"`{v}`: {str(choices[v]).rstrip('.')}" for v in values if v in choices
            )
        meaning = meaning.replace("|", "\\|")
        rows.append(
            f"| `{key}` | {_shown_default(prop)} | {_values(prop)} | {env} | {security} "
            f"| {meaning} |"
        )
    return "\n".join(rows) + "\n"


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """`body` in place of what lies between the marker lines `start` and `end`."""
    head, found, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"markers {start!r} ... {end!r} not found")
    return f"{head}{start}\n{body}{end}{tail}"


# -- editors/vscode ------------------------------------------------------------------------


def _vscode_property(prop: Prop) -> dict[str, Any]:
    plain = _plain(prop)
    kind = plain.get("type", "string")
    out: dict[str, Any] = {}
    if kind == "integer" and _nullable(prop):
        out["type"] = ["integer", "null"]
    else:
        out["type"] = kind
    if "enum" in plain:
        out["enum"] = list(plain["enum"])
        choices = prop.get("choices") or {}
        if choices:
            out["enumDescriptions"] = [str(choices.get(v, "")) for v in plain["enum"]]
    for bound in ("minimum", "maximum"):
        if bound in plain:
            out[bound] = plain[bound]
    if kind == "array":
        out["items"] = {"type": "string"}
    if kind == "object":
        out["additionalProperties"] = plain.get("additionalProperties", True)
    default = _default(prop)
    out["default"] = "" if default is None and kind == "string" else default
    out["scope"] = "machine" if prop.get("security") else "resource"
    text = str(prop.get("description", ""))
    out["markdownDescription"] = f"{text} {USER_ONLY_NOTE}" if prop.get("security") else text
    return out


def vscode_keys(schema: Prop) -> list[str]:
    return [key for key, prop in schema["properties"].items() if prop.get("vscode", True)]


def vscode_manifest(package: Mapping[str, Any], schema: Prop) -> dict[str, Any]:
    """package.json with `contributes.configuration` and `restrictedConfigurations` from the
    schema; the extension's own keys (VSCODE_OWN_PREFIXES) and everything else kept as they are."""
    props = package["contributes"]["configuration"]["properties"]
    generated = {
        f"claw.{key}": _vscode_property(schema["properties"][key]) for key in vscode_keys(schema)
    }
    own = {key: value for key, value in props.items() if key.startswith(VSCODE_OWN_PREFIXES)}
    untrusted = dict(package["capabilities"]["untrustedWorkspaces"])
    untrusted["description"] = (
        "In an untrusted workspace Claw ignores the workspace's own value of every claw.* "
        "setting. The security-relevant ones (backend, tier, approvals, permissions, programs "
        "it starts, ...) are read from your user settings only, trusted or not."
    )
    untrusted["restrictedConfigurations"] = [*own, *generated]
    configuration = {**package["contributes"]["configuration"], "properties": {**own, **generated}}
    return {
        **package,
        "capabilities": {**package["capabilities"], "untrustedWorkspaces": untrusted},
        "contributes": {**package["contributes"], "configuration": configuration},
    }


def vscode_key_module(schema: Prop) -> str:
    keys = vscode_keys(schema)
    props = schema["properties"]
    security = [k for k in keys if props[k].get("security")]
    enums = {k: list(_plain(props[k])["enum"]) for k in keys if "enum" in _plain(props[k])}
    bounds = {
        k: {b: _plain(props[k])[b] for b in ("minimum", "maximum") if b in _plain(props[k])}
        for k in keys
        if {"minimum", "maximum"} & set(_plain(props[k]))
    }

    def listing(values: list[str]) -> str:
        return "[\n" + "".join(f"  {json.dumps(v)},\n" for v in values) + "]"

    return (
        f"// {ORIGIN}\n\n"
        "/** Server settings the extension offers and sends, in the schema's order. */\n"
        f"export const SERVER_KEYS = {listing(keys)} as const;\n\n"
        "/** Security-relevant: only the user's own settings may set these. */\n"
        f"export const SECURITY_KEYS = {listing(security)} as const;\n\n"
        "/** The allowed values of the settings that have a fixed set. */\n"
        "export const ENUMS: Record<string, readonly string[]> = "
        f"{json.dumps(enums, indent=2)};\n\n"
        "/** Bounds of the numeric settings (the server rejects values outside them). */\n"
        "export const BOUNDS: Record<string, { minimum?: number; maximum?: number }> = "
        f"{json.dumps(bounds, indent=2)};\n"
    )


# -- editors/neovim ------------------------------------------------------------------------


def _lua_type(prop: Prop) -> str:
    plain = _plain(prop)
    if "enum" in plain:
        return "|".join(f"'{v}'" for v in plain["enum"])
    kind = plain.get("type")
    if kind == "array":
        return "string[]"
    if kind == "object":
        return "table<string, table>" if "additionalProperties" in plain else "table"
    return {"integer": "integer", "number": "number", "boolean": "boolean"}.get(
        kind or "", "string"
    )


def lua_types(schema: Prop) -> str:
    lines = [
        f"-- {ORIGIN}",
        "---@meta",
        "",
        "--- The server's settings: `require('claw').setup({ server = { ... } })` sends them as",
        "--- initializationOptions and as settings.claw. Those marked (user-level only) count only",
        "--- from initializationOptions, never from workspace configuration.",
        "---@class claw.ServerOptions",
    ]
    for key, prop in schema["properties"].items():
        description = " ".join(str(prop.get("description", "")).split())
        if prop.get("security"):
            description += " (user-level only)"
        lines.append(f"---@field {key}? {_lua_type(prop)} {description}")
    return "\n".join(lines) + "\n"
