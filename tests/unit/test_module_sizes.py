"""Modules in claw_lsp/ stay at or under 400 lines (docs/DEVELOPMENT.md, rules of the house)."""

from __future__ import annotations

from pathlib import Path

import claw_lsp

LIMIT = 400


def test_no_module_exceeds_the_line_limit() -> None:
    root = Path(claw_lsp.__file__).parent
    sizes = {
        str(path.relative_to(root.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(root.rglob("*.py"))
    }
    assert len(sizes) > 50  # the package really was found
    over = {path: lines for path, lines in sizes.items() if lines > LIMIT}
    assert over == {}, f"split these modules (at most {LIMIT} lines each): {over}"
