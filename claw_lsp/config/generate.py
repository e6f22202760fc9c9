"""Write (or check) everything generated from the options schema, in a claw_lsp checkout:

    python -m claw_lsp.config.generate --write   # after changing claw_lsp/config/schema.py
    python -m claw_lsp.config.generate           # exit 1, naming each file that drifted

- docs/configuration.md: the settings table, between the marker comments;
- editors/vscode/package.json: `contributes.configuration` and `restrictedConfigurations`;
- editors/vscode/src/pure/settingsSchema.ts: the keys, enums and bounds the extension sends;
- editors/neovim/lua/claw/options_types.lua: the LuaCATS type of the plugin's `server` table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from claw_lsp.config import render
from claw_lsp.config.schema import ClawOptions
from claw_lsp.config.sources import ENV_NAMES

REPO = Path(__file__).resolve().parents[2]
DOCS = Path("docs/configuration.md")
PACKAGE = Path("editors/vscode/package.json")
VSCODE_KEYS = Path("editors/vscode/src/pure/settingsSchema.ts")
LUA_TYPES = Path("editors/neovim/lua/claw/options_types.lua")
TABLE_START = f"<!-- settings table: {render.ORIGIN} -->"
TABLE_END = "<!-- end of settings table -->"


def options_schema() -> dict[str, Any]:
    return ClawOptions.model_json_schema(by_alias=True)


def expected_files(root: Path = REPO) -> dict[Path, str]:
    """Each generated file's path (relative to the checkout) -> the text it should have."""
    schema = options_schema()
    docs = (root / DOCS).read_text(encoding="utf-8")
    package = json.loads((root / PACKAGE).read_text(encoding="utf-8"))
    manifest = render.vscode_manifest(package, schema)
    return {
        DOCS: render.replace_between(
            docs, TABLE_START, TABLE_END, render.docs_table(schema, ENV_NAMES)
        ),
        PACKAGE: json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
        VSCODE_KEYS: render.vscode_key_module(schema),
        LUA_TYPES: render.lua_types(schema),
    }


def drifted(root: Path = REPO) -> list[Path]:
    """The generated files whose text differs from what the schema gives."""
    out = []
    for path, text in expected_files(root).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claw_lsp.config.generate")
    parser.add_argument("--write", action="store_true", help="rewrite the generated files")
    parser.add_argument("--root", type=Path, default=REPO, help="the claw_lsp checkout")
    args = parser.parse_args(argv)
    if not (args.root / DOCS).is_file():
        print(f"{args.root} is not a claw_lsp checkout (no {DOCS})", file=sys.stderr)
        return 2
    if args.write:
        for path, text in expected_files(args.root).items():
            (args.root / path).write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        return 0
    stale = drifted(args.root)
    for path in stale:
        print(f"{path} differs from claw_lsp/config/schema.py", file=sys.stderr)
    if stale:
        print(f"fix: {render.COMMAND}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
