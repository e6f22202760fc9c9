"""Direct, atomic disk writes: for the CLI and for clients without workspace/applyEdit."""

from __future__ import annotations

import os
from collections.abc import Sequence

from claw_lsp.agent.ports import ApplyResult, FileChange
from claw_lsp.edits.filetext import FileText, atomic_write, encode_text


def write_changes_to_disk(changes: Sequence[FileChange]) -> ApplyResult:
    for change in changes:
        try:
            if change.delete:
                if os.path.lexists(change.path) and not os.path.islink(change.path):
                    os.unlink(change.path)
                continue
            change.path.parent.mkdir(parents=True, exist_ok=True)
            like = FileText(text="", bom=change.bom, newline="\n", size=0)
            atomic_write(change.path, encode_text(change.after, like))
        except OSError as exc:
            return ApplyResult(False, f"could not write {change.path.name}: {exc.strerror}")
    return ApplyResult(True)
