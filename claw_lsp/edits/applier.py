"""Where every file change goes: applied through the Editor port (and journaled for undo), or
held as a proposal for review. Nothing is written behind the editor's back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from claw_lsp.edits.journal import TurnJournal
from claw_lsp.edits.proposals import Proposal, ProposalStore
from claw_lsp.edits.textdiff import changed_line_span, unified_diff
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import ApplyResult, Editor, FileChange

MAX_EDIT_CHARS = 5_000_000


class ChangeRejected(Exception):
    """The change did not reach the file; the message is model-facing."""


@dataclass
class ChangeApplier:
    editor: Editor
    journal: TurnJournal
    proposals: ProposalStore
    session: str
    mode: Literal["apply", "propose"]
    events: EventSink
    on_applied: Callable[[FileChange], None] = lambda change: None
    # uri -> (line, text): a prompt comment (`# claw: ...`) that goes with the first edit.
    remove_lines: dict[str, tuple[int, str]] = field(default_factory=dict)

    async def submit(self, change: FileChange, relative: str) -> str:
        original = change
        change = self._without_prompt_line(change)
        note = " The prompt's comment line was removed with it." if change is not original else ""
        if len(change.after) > MAX_EDIT_CHARS:
            raise ChangeRejected(
                f"the new content is {len(change.after)} characters; the limit for one edit is "
                f"{MAX_EDIT_CHARS}. Split the change into smaller edits."
            )
        if self.mode == "propose":
            proposal = self.propose(change, relative)
            return (
                f"Proposed a change to {relative} (proposal {proposal.id}); it is waiting for "
                "the user's review and is NOT applied yet."
            )
        result = await self.editor.apply(change)
        return self._settle(change, relative, result) + note

    async def submit_many(self, changes: Sequence[tuple[FileChange, str]], label: str) -> str:
        """Several files changed as ONE workspace edit (a rename), so the editor applies and
        undoes them together; each file is journaled (claw.undoTurn) or proposed on its own."""
        if sum(len(change.after) for change, _ in changes) > MAX_EDIT_CHARS:
            raise ChangeRejected(f"the change is larger than {MAX_EDIT_CHARS} characters")
        changes = [(self._without_prompt_line(change), relative) for change, relative in changes]
        if self.mode == "propose":
            ids = [self.propose(change, relative).id for change, relative in changes]
            return (
                f"Proposed changes to {len(changes)} file(s) (proposals {', '.join(ids)}); they "
                "are waiting for the user's review and are NOT applied yet."
            )
        result = await self.editor.apply_many([change for change, _ in changes], label)
        messages = [self._settle(change, relative, result) for change, relative in changes]
        return messages[0] if len(messages) == 1 else "\n".join(messages)

    def _without_prompt_line(self, change: FileChange) -> FileChange:
        """The edit also removes the prompt's comment line (its text, nearest its line)."""
        target = self.remove_lines.get(change.uri)  # consumed once an edit of it lands
        if target is None or change.delete:
            return change
        line, text = target
        after = remove_line_near(change.after, line, text)
        return change if after is None else replace(change, after=after)

    def propose(self, change: FileChange, relative: str) -> Proposal:
        diff = unified_diff(change.before or "", change.after, relative)
        span = changed_line_span(change.before or "", change.after) or (0, 0)
        proposal = self.proposals.add(self.session, self.journal.turn, change, diff, span)
        self.remove_lines.pop(change.uri, None)
        self.events.emit("proposal", proposal.to_wire())
        return proposal

    def _settle(self, change: FileChange, relative: str, result: ApplyResult) -> str:
        applied = result.applied
        payload: dict[str, Any] = {"uri": change.uri, "applied": applied}
        self.events.emit("edit", payload)
        if applied is None:
            raise ChangeRejected(
                f"edit status unknown for {relative}: the editor did not answer in time. Read the "
                "file again before changing it further."
            )
        if not applied:
            reason = f" ({result.message})" if result.message else ""
            raise ChangeRejected(
                f"the editor rejected the edit to {relative}{reason}; the document probably "
                "changed. Read it again and retry."
            )
        self.remove_lines.pop(change.uri, None)
        self.journal.record(change.path, change.uri, change.before, change.after)
        self.on_applied(change)
        created = " (new file)" if change.before is None else ""
        return f"Applied the change to {relative}{created}."


def remove_line_near(text: str, line: int, content: str) -> str | None:
    """`text` without the line equal to `content` (ignoring the line end) that is nearest to
    `line`; None when no line matches (the model already removed or rewrote it)."""
    lines = text.splitlines(keepends=True)
    matches = [i for i, raw in enumerate(lines) if raw.rstrip("\r\n") == content.rstrip("\r\n")]
    if not matches:
        return None
    nearest = min(matches, key=lambda i: abs(i - line))
    return "".join(lines[:nearest] + lines[nearest + 1 :])
