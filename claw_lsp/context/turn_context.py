"""The user message of a turn: changing context first, then the user's words. The system
prompt never changes, so everything that does lives here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from claw_lsp.permissions.paths import Root


def build_user_message(
    prompt: str,
    *,
    editor_context: str,
    root: Root,
    include_rules: bool,
    proposal_report: Sequence[str] = (),
    active_dir: Any = None,
) -> dict[str, Any]:
    parts: list[str] = []
    if include_rules:
        rules = rules_context(root, active_dir)
        if rules:
            parts.append(rules)
    if proposal_report:
        parts.append(
            "<review>\nThe user reviewed your proposed edits:\n"
            + "\n".join(f"- {line}" for line in proposal_report)
            + "\n</review>"
        )
    if editor_context:
        parts.append(editor_context)
    parts.append(prompt)
    return {"role": "user", "content": "\n\n".join(parts)}


def rules_context(root: Root, active_dir: Any = None) -> str:
    from claw_lsp.context.rules_files import discover_rules_files, render_rules_message

    try:
        files = discover_rules_files(root.real_path, active_dir=active_dir)
    except OSError:
        return ""
    return render_rules_message(files, root.real_path) if files else ""
