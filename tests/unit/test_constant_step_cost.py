"""Issue 22: per-step cost that does not grow with the history.

Sizes and wire forms are cached per message; these tests check that the cached answers are
always the ones a full recomputation gives, including after the in-place changes compaction
makes, and that an unchanged message is neither re-encoded nor rebuilt."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claw_lsp.context import tokens
from claw_lsp.context.tokens import RequestSizer, measure_request
from claw_lsp.foundation.messages import wire_message
from claw_lsp.llm.base import ModelReply
from claw_lsp.llm.toolcalls.detect import HISTORY_KEY, family_from_history
from claw_lsp.llm.wire import WireModel

TOOLS = [{"type": "function", "function": {"name": "read_file", "parameters": {}}}]


class _NoBackend:
    model_name = "m"

    async def complete(self, request: Any, **_: Any) -> ModelReply:  # never called here
        raise AssertionError

    async def close(self) -> None:
        pass


def _history(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "user", "content": "read them"}]
    for i in range(n):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file"}}
        out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        out.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"text {i} é"})
    return out


def test_wire_forms_are_reused_and_rebuilt_when_a_message_changes() -> None:
    model = WireModel(_NoBackend())  # type: ignore[arg-type]
    history = _history(3)
    first = model.build_request("sys", TOOLS, history)
    second = model.build_request("sys", TOOLS, history)
    assert all(a is b for a, b in zip(first.messages, second.messages, strict=True))
    history[2]["content"] = "shortened"  # what compaction's shrinking does, in place
    history[1]["flag"] = True  # a key of our own: not sent, but the entry is rebuilt
    third = model.build_request("sys", TOOLS, history)
    assert [dict(m) for m in third.messages[1:]] == [wire_message(m) for m in history]
    assert third.messages[3]["content"] == "shortened"
    assert third.messages[4] is first.messages[4]


def test_text_call_family_still_comes_from_the_first_assistant_that_has_one() -> None:
    model = WireModel(_NoBackend())  # type: ignore[arg-type]
    history = _history(2)
    assert model.build_request("sys", TOOLS, history).parse_family is None
    history[3][HISTORY_KEY] = "hermes"
    history[1][HISTORY_KEY] = "qwen3_coder"
    expected = family_from_history(history)
    assert expected == "qwen3_coder"
    assert model.dialect(history).session_family == expected
    request = model.build_request("sys", TOOLS, history)
    assert request.parse_family == model.dialect(history).parse_family


def test_sizer_encodes_each_message_once(monkeypatch: Any) -> None:
    model = WireModel(_NoBackend())  # type: ignore[arg-type]
    sizer = RequestSizer()
    history = _history(50)
    calls: list[int] = []
    real = tokens.json_chars

    def counting(value: Any) -> int:
        calls.append(1)
        return real(value)

    monkeypatch.setattr(tokens, "json_chars", counting)
    for step in range(5):
        request = model.build_request("sys", TOOLS, history)
        size = sizer.measure(request.messages, request.tools)
        assert size == measure_request(list(request.messages), TOOLS)
        encoded_before = len(calls)
        history.append({"role": "tool", "tool_call_id": f"x{step}", "content": "new"})
        request = model.build_request("sys", TOOLS, history)
        calls.clear()
        sizer.measure(request.messages, request.tools)
        assert len(calls) == 1, "only the new message is encoded"
        assert encoded_before > 0


_text = st.text(max_size=30)
_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool"]), "content": st.none() | _text}
)
_edit = st.tuples(st.sampled_from(["append", "content", "replace", "drop", "key"]), _text)


@settings(max_examples=150, deadline=None)
@given(st.lists(_message, min_size=1, max_size=8), st.lists(_edit, max_size=12))
def test_cached_sizes_match_a_full_measurement(
    start: list[dict[str, Any]], edits: list[tuple[str, str]]
) -> None:
    model = WireModel(_NoBackend())  # type: ignore[arg-type]
    sizer = RequestSizer()
    history = [dict(m) for m in start]
    for kind, text in [("none", ""), *edits]:
        if kind == "append":
            history.append({"role": "tool", "tool_call_id": "c", "content": text})
        elif kind == "content" and history:
            history[len(text) % len(history)]["content"] = text
        elif kind == "replace" and history:
            history[:] = [dict(m) for m in history[-2:]]  # compaction keeps copies
        elif kind == "drop" and len(history) > 1:
            history.pop(0)
        elif kind == "key" and history:
            history[0]["incomplete"] = True
        tools = TOOLS if len(text) % 2 else []
        request = model.build_request(f"sys {len(text) % 3}", tools, history)
        expected_wire = [
            {"role": "system", "content": f"sys {len(text) % 3}"},
            *[wire_message(m) for m in history],
        ]
        assert json.dumps(list(request.messages)) == json.dumps(expected_wire)
        assert sizer.measure(request.messages, request.tools) == measure_request(
            expected_wire, tools
        )


def test_text_mode_forms_are_reused_and_rebuilt_when_a_message_changes() -> None:
    model = WireModel(_NoBackend(), tool_mode="text")  # type: ignore[arg-type]
    history = _history(3)
    first = model.build_request("sys", TOOLS, history)
    second = model.build_request("sys", TOOLS, history)
    assert all(a is b for a, b in zip(first.messages, second.messages, strict=True))
    history[4]["content"] = "shortened"  # what compaction's shrinking does, in place
    third = model.build_request("sys", TOOLS, history)
    fresh = WireModel(_NoBackend(), tool_mode="text")  # type: ignore[arg-type]
    assert third.messages == fresh.build_request("sys", TOOLS, history).messages
    # history[4] (the second tool result) is the fifth message after the system prompt.
    assert third.messages[5] == {"role": "user", "content": third.messages[5]["content"]}
    assert "shortened" in third.messages[5]["content"]
    assert third.messages[5] is not first.messages[5]
    assert third.messages[4] is first.messages[4] and third.messages[6] is first.messages[6]


_call = st.fixed_dictionaries(
    {
        "id": st.just("c"),
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {"name": st.sampled_from(["read_file", "grep"]), "arguments": st.just('{"a": 1}')}
        ),
    }
)
_text_message = _message | st.fixed_dictionaries(
    {"role": st.just("assistant"), "content": st.none(), "tool_calls": st.lists(_call, max_size=2)}
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_text_message, min_size=1, max_size=8), st.lists(_edit, max_size=12))
def test_cached_text_mode_forms_match_a_fresh_rewrite(
    start: list[dict[str, Any]], edits: list[tuple[str, str]]
) -> None:
    model = WireModel(_NoBackend(), tool_mode="text")  # type: ignore[arg-type]
    history = [dict(m) for m in start]
    for kind, text in [("none", ""), *edits]:
        if kind == "append":
            history.append({"role": "tool", "tool_call_id": "c", "content": text})
        elif kind == "content" and history:
            history[len(text) % len(history)]["content"] = text
        elif kind == "replace" and history:
            history[:] = [dict(m) for m in history[-2:]]  # compaction keeps copies
        elif kind == "drop" and len(history) > 1:
            history.pop(0)
        elif kind == "key" and history:
            history[0]["incomplete"] = True
        request = model.build_request("sys", TOOLS, history)
        fresh = WireModel(_NoBackend(), tool_mode="text")  # type: ignore[arg-type]
        expected = fresh.build_request("sys", TOOLS, history)
        assert json.dumps(list(request.messages)) == json.dumps(list(expected.messages))
