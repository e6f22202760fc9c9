"""Compaction through the real server: a small configured window, a backend's "context length
exceeded" error (one compaction, one retry, no loop), /compact, and replay after a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claw_lsp.context.compaction import ACKNOWLEDGEMENT, SUMMARY_OPEN, SUMMARY_SYSTEM_PROMPT
from claw_lsp.sessions.store import SessionStore
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

OVERFLOW = {
    "status": 400,
    "body": {"error": {"message": "This model's maximum context length is 4096 tokens"}},
}
SUMMARY = {"text": "SUMMARY: the user sent p1 to p4 and got short answers."}


def is_summary_request(request: dict[str, Any]) -> bool:
    return request["messages"][0]["content"] == SUMMARY_SYSTEM_PROMPT


def records(state_dir: Path, workspace: Path, session: str) -> list[dict[str, Any]]:
    loaded = SessionStore(state_dir).load(workspace.as_uri(), session)
    assert loaded is not None
    return loaded.records


async def test_small_window_compacts_with_a_model_summary_and_replays_after_restart(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(*({"text": f"r{n}"} for n in range(1, 5)), SUMMARY, {"text": "r5"}, {"text": "r6"})
    env = server_env(model.base_url, state_dir)
    options = {"contextWindow": 2048}
    claw = await start_claw([workspace], env, init_options=options)
    try:
        for n in range(1, 5):
            await claw.ask(f"p{n}")
        big = "p5 " + "x" * 2500
        result = await claw.ask(big)
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert [is_summary_request(r) for r in requests] == [False] * 4 + [True, False]
    summary_request = requests[4]
    assert "tools" not in summary_request  # the summary call offers no tools
    transcript = summary_request["messages"][1]["content"]
    assert "p1" in transcript and "r4" in transcript and "x" * 2500 not in transcript
    after = requests[5]["messages"]
    assert requests[5]["messages"][0] == requests[0]["messages"][0]  # same system prompt
    assert [m["role"] for m in after] == ["system", "user", "assistant", "user"]
    assert SUMMARY_OPEN in after[1]["content"] and SUMMARY["text"] in after[1]["content"]
    assert after[2]["content"] == ACKNOWLEDGEMENT
    assert after[3]["content"].endswith(big)  # the current prompt stays verbatim
    assert result["text"] == "r5" and result["stopReason"] == "done"
    notices = [e for e in claw.recorder.events if e["kind"] == "notice"]
    assert any("compacted" in str(e) for e in notices)
    (compaction,) = [
        r for r in records(state_dir, workspace, result["session"]) if r["type"] == "compaction"
    ]
    assert compaction["reason"] == "threshold" and compaction["summaryBy"] == "model"
    assert compaction["replaced"] == 8 and compaction["messages"] == after[1:]

    claw = await start_claw([workspace], env, init_options={"contextWindow": 100_000})
    try:
        await claw.ask("p6")
    finally:
        await claw.client.shutdown_session()
    replayed = model.chat_requests()[-1]["messages"]
    assert replayed[1:4] == after[1:]
    assert [m["content"] for m in replayed[4:]] == ["r5", replayed[5]["content"]]
    assert replayed[5]["content"].endswith("p6")


async def test_context_length_error_compacts_once_and_retries_once(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "r1"}, {"text": "r2"}, {"text": "r3"}, OVERFLOW, SUMMARY, {"text": "r4"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        for n in range(1, 4):
            await claw.ask(f"p{n}")
        result = await claw.ask("p4")
        context = await claw.ask("/context")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert len(requests) == 6 and is_summary_request(requests[4])
    refused, retried = requests[3]["messages"], requests[5]["messages"]
    assert len(retried) < len(refused)
    assert SUMMARY["text"] in retried[1]["content"]
    assert retried[-1] == refused[-1]  # the prompt of the turn, unchanged
    assert result["stopReason"] == "done" and result["text"] == "r4"
    kinds = [
        r["reason"]
        for r in records(state_dir, workspace, result["session"])
        if r["type"] == "compaction"
    ]
    assert kinds == ["overflow"]
    # The refused request taught the session a window below its size.
    assert "below a request the backend refused" in context["text"]


async def test_a_second_overflow_ends_the_turn_without_a_loop(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "r1"}, {"text": "r2"}, {"text": "r3"}, OVERFLOW, SUMMARY, OVERFLOW)
    model.add({"text": "never requested"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        for n in range(1, 4):
            await claw.ask(f"p{n}")
        result = await claw.ask("p4")
        again = await claw.ask("p5")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "error"
    assert "context window" in result["text"]
    # Overflow, summary, one retry: then the user hears about it. The next turn works.
    assert len(model.chat_requests()) == 7 and again["text"] == "never requested"


async def test_compact_command_summarises_now(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(*({"text": f"r{n}"} for n in range(1, 5)), SUMMARY, {"text": "r5"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        for n in range(1, 5):
            await claw.ask(f"p{n}")
        compacted = await claw.ask("/compact")
        nothing = await claw.ask("/compact")
        await claw.ask("p5")
    finally:
        await claw.client.shutdown_session()
    assert compacted["stopReason"] == "local"
    assert "into a summary by the model" in compacted["text"]
    requests = model.chat_requests()
    assert is_summary_request(requests[4])
    assert all("/compact" not in json.dumps(r) for r in requests)
    assert "Nothing to compact" in nothing["text"]
    assert SUMMARY["text"] in requests[5]["messages"][1]["content"]
