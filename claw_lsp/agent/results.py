"""The result of a turn as every front door returns it (the `claw.ask` result object), and the
turn record that the session file keeps of it."""

from __future__ import annotations

from typing import Any

from claw_lsp.agent.loop import TurnOutcome
from claw_lsp.agent.state import FolderState
from claw_lsp.edits.proposals import ProposalStore
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.secrets import neutralize_markdown, redact
from claw_lsp.foundation.tiers import Tier
from claw_lsp.sessions.store import SessionStore

NO_USAGE = {"promptTokens": 0, "completionTokens": 0}


def local_result(text: str, session: str | None) -> dict[str, Any]:
    """A slash command's answer: nothing went to the model."""
    return {
        "session": session,
        "turn": None,
        "text": text,
        "stopReason": "local",
        "edits": [],
        "toolCalls": 0,
        "usage": dict(NO_USAGE),
    }


def finish_turn(
    store: SessionStore,
    proposals: ProposalStore,
    state: FolderState,
    session_id: str,
    turn: int,
    outcome: TurnOutcome,
    *,
    journal_records: list[Any],
    events: EventSink,
    error: str | None,
    tier: Tier,
) -> dict[str, Any]:
    pending = [
        {"uri": p.uri, "applied": False, "proposal": p.id}
        for p in proposals.pending()
        if p.session == session_id and p.turn == turn
    ]
    edits = [{"uri": e["uri"], "applied": True} for e in journal_records] + pending
    store.append(
        state.root.uri,
        session_id,
        [
            {
                "type": "turn",
                "turn": turn,
                "stopReason": outcome.stop_reason,
                "usage": outcome.usage.to_wire(),
                "edits": journal_records,
                "tier": tier.value,
                "error": redact(error) if error else None,
            }
        ],
    )
    if error:
        events.emit("error", {"message": redact(error)})
    events.emit("done", {"stopReason": outcome.stop_reason})
    text = outcome.text
    if error and outcome.stop_reason == "error":
        text = (text + "\n\n" if text else "") + f"Error: {redact(error)}"
    elif error:
        text = (text + "\n\n" if text else "") + f"[{redact(error)}]"
    return {
        "session": session_id,
        "turn": turn,
        "text": neutralize_markdown(redact(text)),
        "stopReason": outcome.stop_reason,
        "edits": edits,
        "toolCalls": outcome.tool_calls,
        "usage": outcome.usage.to_wire(),
    }
