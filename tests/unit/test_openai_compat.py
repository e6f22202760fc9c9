"""OpenAICompatModel and its reply reader against the real scripted HTTP server, plus the pure
pieces of the "no native tools" mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from claw_lsp.llm.base import BackendError, ChatRequest
from claw_lsp.llm.openai_compat import OpenAICompatModel
from claw_lsp.llm.stream_reply import (
    MAX_LINE_BYTES,
    ReplyAssembler,
    escape_control_characters,
    reply_from_body,
)
from claw_lsp.llm.text_mode import (
    choose_tool_mode,
    render_call,
    text_mode_messages,
    text_mode_system_prompt,
)
from claw_lsp.llm.toolcall_text import extract_text_tool_calls
from tests.support.scripted_model import ScriptedModel

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["path"],
            },
        },
    }
]


@pytest.fixture
def scripted() -> Iterator[ScriptedModel]:
    server = ScriptedModel().start()
    yield server
    server.stop()


def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


async def complete(server: ScriptedModel, *, stream: bool = True, tools: Any = TOOLS) -> Any:
    model = OpenAICompatModel(
        base_url=server.base_url, model="scripted", api_key="k", stream=stream
    )
    seen: list[str] = []
    try:
        reply = await model.complete(
            ChatRequest([{"role": "user", "content": "hi"}], tools),
            on_text=seen.append,
            on_notice=seen.append,
        )
    finally:
        await model.close()
    return reply, seen


async def test_an_over_long_sse_line_is_skipped_not_buffered(scripted: ScriptedModel) -> None:
    huge = chunk({"content": "x" * (MAX_LINE_BYTES + 10)})
    scripted.add({"raw_sse": [chunk({"content": "kept"}), huge, chunk({}, "stop")]})
    reply, _ = await complete(scripted)
    assert reply.text == "kept" and reply.finish_reason == "stop"


async def test_error_event_mid_stream_keeps_the_partial_text(scripted: ScriptedModel) -> None:
    error = json.dumps({"error": {"message": "the model crashed"}})
    scripted.add({"raw_sse": [chunk({"content": "Half"}), error]})
    with pytest.raises(BackendError) as caught:
        await complete(scripted)
    assert caught.value.kind == "invalid_response" and caught.value.partial_text == "Half"
    assert "the model crashed" in str(caught.value)


async def test_non_streaming_mode_reads_a_plain_completion(scripted: ScriptedModel) -> None:
    scripted.add({"text": "plain", "tool_calls": [{"name": "read_file", "arguments": "{}"}]})
    reply, seen = await complete(scripted, stream=False)
    assert reply.text == "plain" and seen == ["plain"]
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("read_file", "{}")]
    assert "stream" not in scripted.chat_requests()[0]


async def test_empty_stream_without_tools_is_not_retried(scripted: ScriptedModel) -> None:
    scripted.add({"text": "", "finish_reason": "stop"})
    reply, _ = await complete(scripted, tools=[])
    assert reply.text == "" and len(scripted.chat_requests()) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "an empty body"),
        (b"[1, 2]", "[1, 2]"),
        (b'{"object": "list"}', '{"object": "list"}'),
        (b'{"error": "overloaded"}', "an error instead of a completion): overloaded"),
    ],
)
def test_bodies_that_are_not_completions(body: bytes, message: str) -> None:
    with pytest.raises(BackendError) as caught:
        reply_from_body(body, lambda _: None, lambda _: None)
    assert caught.value.kind == "invalid_response" and message in str(caught.value)


def test_sse_body_without_its_content_type_is_still_read() -> None:
    body = f"data: {chunk({'content': 'hi'})}\n\ndata: {chunk({}, 'stop')}\n\n".encode()
    reply = reply_from_body(body, lambda _: None, lambda _: None)
    assert reply.text == "hi" and reply.finish_reason == "stop"


def test_calls_without_index_split_on_a_new_id_or_name() -> None:
    assembler = ReplyAssembler(lambda _: None, lambda _: None)
    for call in (
        {"id": "a", "function": {"name": "read_file", "arguments": '{"path"'}},
        {"function": {"arguments": ': "x"}'}},
        {"id": "b", "function": {"name": "read_file", "arguments": "{}"}},
        {"function": {"name": "glob", "arguments": "{}"}},
    ):
        assembler.feed_chunk({"choices": [{"delta": {"tool_calls": [call]}}]})
    calls = assembler.reply().tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "read_file", '{"path": "x"}'),
        ("b", "read_file", "{}"),
        ("", "glob", "{}"),
    ]


def test_control_characters_are_escaped_but_whitespace_is_kept() -> None:
    # A lone CR would return the cursor and let later text overwrite the line: escaped too.
    assert (
        escape_control_characters("a\x1b[31mb\x00\tc\nd\r\x9be\r\n")
        == "a\\x1b[31mb\\x00\tc\nd\\r\\x9be\r\n"
    )


@pytest.mark.parametrize(
    ("configured", "probed", "expected"),
    [
        ("native", "none", "native"),
        ("text", "structured", "text"),
        ("auto", "none", "text"),
        ("auto", "text", "native"),  # text calls with native tools work: keep native
        ("auto", "error", "native"),  # a failed probe says nothing
        ("auto", None, "native"),
        (None, "none", "text"),
    ],
)
def test_tool_mode_choice(configured: Any, probed: Any, expected: str) -> None:
    assert choose_tool_mode(configured, probed) == expected


def test_text_mode_history_round_trips_through_the_parser() -> None:
    arguments = {"path": "src/a.py", "limit": 5}
    history = [
        {"role": "user", "content": "read it"},
        {
            "role": "assistant",
            "content": "Sure.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": json.dumps(arguments)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "1: x = 1"},
        {"role": "user", "content": "thanks"},
    ]
    wire = text_mode_messages(history)
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    assert wire[2]["content"] == "<tool_response>\n1: x = 1\n</tool_response>\n\nthanks"
    visible, (call,) = extract_text_tool_calls(wire[1]["content"], {"read_file": TOOLS[0]})
    assert visible == "Sure." and call.arguments.value == arguments
    assert render_call("read_file", arguments) in wire[1]["content"]


def test_text_mode_system_prompt_is_byte_stable() -> None:
    first = text_mode_system_prompt("You are claw.", TOOLS)
    assert first == text_mode_system_prompt("You are claw.", json.loads(json.dumps(TOOLS)))
    assert first.startswith("You are claw.\n\n# Tools") and "- read_file: Read a file" in first
