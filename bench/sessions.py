"""7. Resume of a 1,000-message session, and claw.sessions over 500 sessions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Scratch, running_claw, scripted_model
from claw_lsp.sessions.store import SessionStore

SESSIONS = 500
BIG_SESSIONS = 5  # each resumed once: only the first resume of a session reads the disk
BIG_MESSAGES = 1000
MESSAGES_PER_TURN = 10
LIST_ROUNDS = 5


@dataclass
class SessionsResult:
    generate_s: float = 0.0
    big_file_kb: int = 0
    list_s: list[float] = field(default_factory=list)
    listed: int = 0
    resume_s: list[float] = field(default_factory=list)
    history_s: list[float] = field(default_factory=list)
    history_messages: int = 0


def _turn_records(turn: int) -> list[dict[str, Any]]:
    """One realistic turn: the user asks, four read/result pairs, the answer (10 messages)."""
    records: list[dict[str, Any]] = []

    def message(body: dict[str, Any]) -> None:
        records.append({"type": "message", "turn": turn, "message": body})

    message({"role": "user", "content": f"Turn {turn}: look at the parser and fix the bug."})
    for step in range(4):
        call_id = f"call_{turn}_{step}"
        message(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": "read_file",
                            "arguments": f'{{"path": "src/module_{step}.py"}}',
                        },
                    }
                ],
            }
        )
        lines = "\n".join(f"{n:>5}  value_{n} = compute({n}, step={step})" for n in range(40))
        message({"role": "tool", "tool_call_id": call_id, "content": lines})
    message({"role": "assistant", "content": f"Fixed the bug found in turn {turn}."})
    records.append(
        {
            "type": "turn",
            "turn": turn,
            "stopReason": "done",
            "usage": {"promptTokens": 1000, "completionTokens": 50},
            "edits": [],
            "tier": "read-only",
            "error": None,
        }
    )
    return records


def generate_sessions(state_dir: Path, folder_uri: str) -> list[str]:
    """Written through the real SessionStore, so the files are exactly what the server reads."""
    store = SessionStore(state_dir)
    big: list[str] = []
    for index in range(SESSIONS):
        session_id = store.create(folder_uri, title=f"session {index}")
        if index < BIG_SESSIONS:
            turns = BIG_MESSAGES // MESSAGES_PER_TURN
            records = [r for turn in range(1, turns + 1) for r in _turn_records(turn)]
            big.append(session_id)
        else:
            records = _turn_records(1)
        store.append(folder_uri, session_id, records)
    return big


async def measure_sessions(scratch: Scratch, workspace: Path) -> SessionsResult:
    result = SessionsResult()
    state = scratch.dir("sessions-state")
    started = time.perf_counter()
    big = generate_sessions(state, workspace.as_uri())
    result.generate_s = time.perf_counter() - started
    big_file = next(state.glob(f"folders/*/sessions/{big[0]}.jsonl"))
    result.big_file_kb = big_file.stat().st_size // 1024
    async with scripted_model() as model, running_claw(model, workspace, state) as claw:
        for _ in range(LIST_ROUNDS):
            t0 = time.perf_counter()
            listed = await claw.command("claw.sessions", {})
            result.list_s.append(time.perf_counter() - t0)
            result.listed = len(listed)
        for session_id in big:
            t0 = time.perf_counter()
            resumed = await claw.command("claw.resumeSession", {"session": session_id})
            result.resume_s.append(time.perf_counter() - t0)
            if resumed.get("turns") != BIG_MESSAGES // MESSAGES_PER_TURN:
                raise RuntimeError(f"resume found {resumed.get('turns')} turns")
            t0 = time.perf_counter()
            history = await claw.command("claw.history", {"session": session_id})
            result.history_s.append(time.perf_counter() - t0)
            result.history_messages = len(history)
    return result
