"""Direct, atomic disk writes: for the CLI and for clients without workspace/applyEdit."""

from __future__ import annotations

from collections.abc import Sequence

from claw_lsp.edits.filetext import FileText, encode_text
from claw_lsp.foundation.ports import ApplyResult, FileChange
from claw_lsp.permissions.confined_write import remove_confined, write_confined


def write_changes_to_disk(changes: Sequence[FileChange]) -> ApplyResult:
    for change in changes:
        try:
            if change.delete:
                remove_confined(change.path)
                continue
            like = FileText(text="", bom=change.bom, newline="\n", size=0)
            write_confined(change.path, encode_text(change.after, like))
        except OSError as exc:
            return ApplyResult(False, f"could not write {change.path.name}: {exc.strerror}")
    return ApplyResult(True)
