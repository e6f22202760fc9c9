"""Compaction of a conversation: what is summarised, what is kept verbatim, and fallbacks."""

from __future__ import annotations

from typing import Any

from claw_lsp.context.compaction import (
    ACKNOWLEDGEMENT,
    SUMMARY_OPEN,
    compact_messages,
    compaction_cut,
    transcript,
)
from claw_lsp.context.rules_files import RULES_PREAMBLE

EDITOR = "<editor-context>\nActive file: a.py\n</editor-context>"
RULES = '<instructions-file path="CLAUDE.md" scope="project">\nuse tabs\n</instructions-file>'


def call(call_id: str, name: str = "read_file") -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": '{"path": "a.py"}'},
            }
        ],
    }


def result(call_id: str, text: str = "x = 1") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def conversation() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": f"{RULES_PREAMBLE}\n\n{RULES}\n\nfirst task"},
        call("c1"),
        result("c1"),
        {"role": "assistant", "content": "done with the first"},
        {"role": "user", "content": f"{EDITOR}\n\nsecond"},
        call("c2"),
        result("c2", "y" * 5000),
        call("c3"),
        result("c3"),
        {"role": "assistant", "content": "all done"},
    ]


def test_cut_never_leaves_a_tool_result_without_its_call() -> None:
    messages = conversation()
    for keep in range(1, len(messages)):
        cut = compaction_cut(messages, keep)
        assert cut == 0 or messages[cut]["role"] != "tool"
    assert compaction_cut(messages[:2], 6) == 0  # too short to be worth it


async def test_model_summary_replaces_the_head_and_keeps_rules_and_tail() -> None:
    seen: list[str] = []

    async def summarise(text: str) -> str:
        seen.append(text)
        return "The user asked for two tasks; a.py was read."

    messages = conversation()
    done = await compact_messages(messages, summarise=summarise, keep_recent=3)
    assert done is not None and done.by_model and done.replaced == 7
    first = done.messages[0]
    assert first["role"] == "user"
    assert RULES in first["content"]  # instruction files carried over verbatim
    assert SUMMARY_OPEN in first["content"] and "two tasks" in first["content"]
    # The tail starts with the assistant call whose result it keeps.
    assert done.messages[1:] == messages[7:]
    # The transcript for the summary has no instruction text or editor frames in it.
    assert "use tabs" not in seen[0] and "<editor-context>" not in seen[0]
    assert "read_file(" in seen[0]


async def test_the_current_request_survives_a_cut_inside_its_turn() -> None:
    messages = conversation()[:9]  # the turn "second" is still running
    done = await compact_messages(messages, summarise=None, keep_recent=2)
    assert done is not None and not done.by_model
    assert "The request being worked on now:" in done.messages[0]["content"]
    assert "second" in done.messages[0]["content"].split("worked on now:")[1]
    assert "(made without the model)" in done.summary


async def test_failing_summariser_falls_back_and_a_user_tail_gets_an_acknowledgement() -> None:
    async def broken(text: str) -> str:
        raise RuntimeError("backend down")

    messages = [*conversation(), {"role": "user", "content": "third"}]
    done = await compact_messages(messages, summarise=broken, keep_recent=1)
    assert done is not None and not done.by_model
    assert "User asked: first task" in done.summary
    assert "Agent called read_file" in done.summary
    assert [m["role"] for m in done.messages] == ["user", "assistant", "user"]
    assert done.messages[1]["content"] == ACKNOWLEDGEMENT


async def test_compacting_again_keeps_the_earlier_summary() -> None:
    first = await compact_messages(conversation(), summarise=None, keep_recent=3)
    assert first is not None
    again = [
        *first.messages,
        {"role": "user", "content": "fourth"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "fifth"},
        {"role": "assistant", "content": "ok"},
    ]
    second = await compact_messages(again, summarise=None, keep_recent=2)
    assert second is not None
    assert "User asked: first task" in second.summary  # carried from the first digest
    assert RULES in second.messages[0]["content"]


def test_transcript_is_budgeted() -> None:
    text = transcript(conversation(), 1000)
    assert len(text) < 1100 and "characters left out" in text
