"""Per-turn journal of applied changes, so a whole turn can be undone across files without git."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class JournalEntry:
    path: Path
    uri: str
    before: str | None  # None: the turn created the file
    after: str
    after_hash: str


@dataclass
class TurnJournal:
    """The files one turn changed: first `before` and last `after` per file."""

    turn: int
    entries: dict[Path, JournalEntry] = field(default_factory=dict)

    def record(self, path: Path, uri: str, before: str | None, after: str) -> None:
        if path in self.entries:
            entry = self.entries[path]
            entry.after = after
            entry.after_hash = text_hash(after)
        else:
            self.entries[path] = JournalEntry(path, uri, before, after, text_hash(after))

    def to_record(self) -> list[dict[str, str | None]]:
        return [
            {"uri": e.uri, "afterHash": e.after_hash, "created": str(e.before is None)}
            for e in self.entries.values()
        ]


@dataclass
class SessionJournal:
    turns: dict[int, TurnJournal] = field(default_factory=dict)

    def for_turn(self, turn: int) -> TurnJournal:
        return self.turns.setdefault(turn, TurnJournal(turn))

    def last_turn_with_edits(self) -> int | None:
        candidates = [t for t, j in self.turns.items() if j.entries]
        return max(candidates) if candidates else None

    def forget(self, turn: int) -> None:
        self.turns.pop(turn, None)
