"""Edits held for review (editMode propose) until the user accepts or rejects them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from claw_lsp.foundation.ports import FileChange

ProposalState = Literal["pending", "accepted", "rejected", "stale"]


@dataclass
class Proposal:
    id: str
    session: str
    turn: int
    change: FileChange
    diff: str
    start_line: int
    end_line: int
    state: ProposalState = "pending"

    @property
    def uri(self) -> str:
        return self.change.uri

    def to_wire(self) -> dict[str, object]:
        return {
            "proposal": self.id,
            "uri": self.uri,
            "diff": self.diff,
            "state": self.state,
            "session": self.session,
            "turn": self.turn,
            "range": {
                "start": {"line": self.start_line, "character": 0},
                "end": {"line": self.end_line, "character": 0},
            },
        }


@dataclass
class ProposalStore:
    proposals: dict[str, Proposal] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Decisions the model has not been told about yet, per session.
    unreported: dict[str, list[str]] = field(default_factory=dict)

    def add(
        self, session: str, turn: int, change: FileChange, diff: str, span: tuple[int, int]
    ) -> Proposal:
        # A second proposal for the same file in the same session replaces the first, built on it.
        for old in self.pending_for_path(change.path, session):
            old.state = "rejected"
        proposal = Proposal(f"p{next(self._ids)}", session, turn, change, diff, span[0], span[1])
        self.proposals[proposal.id] = proposal
        return proposal

    def get(self, proposal_id: str) -> Proposal | None:
        return self.proposals.get(proposal_id)

    def pending(self) -> list[Proposal]:
        return [p for p in self.proposals.values() if p.state == "pending"]

    def pending_for_path(self, path: Path, session: str | None = None) -> list[Proposal]:
        return [
            p
            for p in self.pending()
            if p.change.path == path and (session is None or p.session == session)
        ]

    def decide(self, proposal: Proposal, state: ProposalState) -> None:
        proposal.state = state
        self.unreported.setdefault(proposal.session, []).append(
            f"proposal {proposal.id} for {proposal.change.path.name}: {state}"
        )

    def take_report(self, session: str) -> list[str]:
        return self.unreported.pop(session, [])
