"""Every backend fault mode (SECURITY.md BF-01..BF-16) through the real server process, the real
openai client and the scripted model: each ends in a clear result and the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from claw_lsp.agent.loop import TRUNCATED_CALL_NOTE
from tests.support.lsp import ClawSession, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

API_KEY = "sk-test-SECRET-0123456789"  # what server_env configures


@asynccontextmanager
async def claw_on(
    base_url: str, workspace: Path, state_dir: Path, **init: Any
) -> AsyncIterator[ClawSession]:
    claw = await start_claw([workspace], server_env(base_url, state_dir), init_options=init)
    try:
        yield claw
    finally:
        await claw.client.shutdown_session()


async def ask(model: ScriptedModel, workspace: Path, state_dir: Path, *replies: Any, **init: Any):
    model.add(*replies)
    async with claw_on(model.base_url, workspace, state_dir, **init) as claw:
        result = await claw.ask("go")
        # The server is still serving after the fault.
        assert len(await claw.command("claw.sessions")) == 1
    return result, claw.recorder


def session_messages(state_dir: Path) -> list[dict[str, Any]]:
    (path,) = state_dir.glob("folders/*/sessions/*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert API_KEY not in path.read_text()
    return [r["message"] for r in records if r.get("type") == "message"]


def notices(recorder: Any) -> list[str]:
    return [e["message"] for e in recorder.events if e["kind"] == "notice"]


def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def read_call(arguments: Any, **extra: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": arguments, **extra}]}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- BF-01, BF-02: HTTP errors and retries -------------------------------------------------


async def test_429_with_short_retry_after_is_retried_with_a_notice(model, workspace, state_dir):
    result, recorder = await ask(
        model,
        workspace,
        state_dir,
        {
            "status": 429,
            "body": {"error": {"message": "slow down"}},
            "headers": {"Retry-After": "2"},
        },
        {"text": "fine now"},
    )
    assert result["stopReason"] == "done" and result["text"] == "fine now"
    assert len(model.chat_requests()) == 2
    assert any("rate limited" in n and "retrying in 2.0 s" in n for n in notices(recorder))


async def test_429_with_long_retry_after_is_not_retried(model, workspace, state_dir):
    result, _ = await ask(
        model, workspace, state_dir, {"status": 429, "headers": {"Retry-After": "3600"}}
    )
    assert result["stopReason"] == "error"
    assert "rate limiting" in result["text"] and "try again later" in result["text"]
    assert len(model.chat_requests()) == 1


async def test_5xx_is_retried_then_reported(model, workspace, state_dir):
    failures = [{"status": s, "body": "upstream down"} for s in (500, 502, 503, 503)]
    result, recorder = await ask(model, workspace, state_dir, *failures)
    assert result["stopReason"] == "error"
    assert "the backend failed (503): upstream down" in result["text"]
    assert len(model.chat_requests()) == 4  # the first try and three retries, no more
    assert len(notices(recorder)) == 3


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "rejected the request (400)"),
        (401, "check the API key"),
        (403, "check the API key"),
        (404, "check baseUrl"),
    ],
)
async def test_4xx_is_not_retried_and_never_echoes_the_key(
    model, workspace, state_dir, status, expected
):
    body = {"error": {"message": f"bad key {API_KEY}", "type": "invalid_request_error"}}
    result, recorder = await ask(model, workspace, state_dir, {"status": status, "body": body})
    assert result["stopReason"] == "error" and expected in result["text"]
    assert len(model.chat_requests()) == 1
    assert API_KEY not in json.dumps(result) and API_KEY not in json.dumps(recorder.events)
    session_messages(state_dir)  # asserts the session file holds no key either


# -- BF-03, BF-04: unreachable and stalled backends ------------------------------------------


async def test_closed_port_fails_fast_and_the_server_stays_responsive(workspace, state_dir):
    async with claw_on(f"http://127.0.0.1:{closed_port()}/v1", workspace, state_dir) as claw:
        asking = asyncio.ensure_future(claw.ask("go"))
        sessions = await claw.command("claw.sessions")
        answered_while_asking = not asking.done()
        result = await asking
    assert answered_while_asking and isinstance(sessions, list)
    assert result["stopReason"] == "error"
    assert "cannot reach the model backend" in result["text"]


async def test_a_stalled_stream_hits_the_read_timeout_and_keeps_the_partial_text(
    model, workspace, state_dir
):
    stalled = {"raw_sse": [chunk({"content": "Let me think"}), chunk({}, "stop")]}
    stalled["chunk_delay"] = 6  # after the first chunk, nothing for longer than the timeout
    result, _ = await ask(model, workspace, state_dir, stalled, requestTimeout=2)
    assert result["stopReason"] == "error"
    assert result["text"].startswith("Let me think")
    assert "stalled" in result["text"] and "requestTimeout" in result["text"]
    assert session_messages(state_dir)[-1] == {
        "role": "assistant",
        "content": "Let me think",
        "incomplete": True,
    }


# -- BF-05, BF-06: broken and odd streams ----------------------------------------------------


async def test_a_drop_mid_tool_call_runs_nothing_and_keeps_the_text(model, workspace, state_dir):
    # chunks: role, 3 text pieces, the call's head, its first argument piece | dropped here
    reply = {"text": "Reading the file", **read_call({"path": "app.py"}), "drop_after": 6}
    result, recorder = await ask(model, workspace, state_dir, reply)
    assert result["stopReason"] == "error" and result["toolCalls"] == 0
    assert "ended before the answer was complete" in result["text"]
    assert "toolCall" not in recorder.kinds()
    assert len(model.chat_requests()) == 1  # never replayed
    last = session_messages(state_dir)[-1]
    assert last["incomplete"] is True and last["content"] == "Reading the file"
    assert "tool_calls" not in last


async def test_sse_oddities_are_tolerated(model, workspace, state_dir):
    usage_only = json.dumps({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}})
    events = [
        chunk({"role": "assistant", "content": ""}) + "\n\n: keep-alive",
        "this is not JSON",
        chunk({"content": "Hello"}),
        chunk({"content": " world"}),
        chunk({}, "stop"),
        usage_only,  # and no [DONE] at all: EOF ends the reply
    ]
    after_done = [
        chunk({"content": "Second"}),
        chunk({}, "stop"),
        "[DONE]",
        chunk({"content": "X"}),
    ]
    model.add({"raw_sse": events}, {"raw_sse": after_done})
    async with claw_on(model.base_url, workspace, state_dir) as claw:
        first = await claw.ask("one")
        second = await claw.ask("two")
    assert first["stopReason"] == "done" and first["text"] == "Hello world"
    assert first["usage"]["promptTokens"] == 7
    assert second["stopReason"] == "done" and second["text"] == "Second"
    assert any("skipped 1 malformed event" in n for n in notices(claw.recorder))


# -- BF-07, BF-08, BF-10, BF-11: tool-call arguments -------------------------------------------


async def test_invalid_arguments_are_a_tool_error_and_history_replays_empty_object(
    model, workspace, state_dir
):
    broken = '{"path": "timeout 7\\n7", "echo X\\n</parameter":'
    result, recorder = await ask(model, workspace, state_dir, read_call(broken), {"text": "sorry"})
    assert result["stopReason"] == "done" and result["toolCalls"] == 1
    (tool_result,) = [e for e in recorder.events if e["kind"] == "toolResult"]
    assert tool_result["ok"] is False and "invalid arguments" in tool_result["summary"]
    second = model.chat_requests()[1]["messages"]
    (assistant,) = [m for m in second if m["role"] == "assistant"]
    assert assistant["tool_calls"][0]["function"]["arguments"] == "{}"
    assert "invalid arguments JSON" in second[-1]["content"]
    assert broken not in json.dumps(session_messages(state_dir))


async def test_hermes_argument_faults(model, workspace, state_dir):
    missing_brace = read_call('{"path": "app.py"', id="dup")
    extra_data = read_call('{"path": "app.py"}{"path": "x"}', id="dup")
    no_index = {
        "raw_sse": [
            chunk(
                {"tool_calls": [{"id": None, "function": {"name": "read_file", "arguments": ""}}]}
            ),
            chunk({"tool_calls": [{"function": {"arguments": '{"path": '}}]}),
            chunk({"tool_calls": [{"function": {"arguments": '"app.py"}'}}]}),
            chunk({}, "tool_calls"),
        ]
    }
    result, recorder = await ask(
        model, workspace, state_dir, missing_brace, extra_data, no_index, {"text": "done"}
    )
    assert result["stopReason"] == "done" and result["toolCalls"] == 3
    oks = [e["ok"] for e in recorder.events if e["kind"] == "toolResult"]
    assert oks == [True, False, True]  # repaired brace; two objects refused; index-less ok
    final = model.chat_requests()[-1]["messages"]
    ids = [c["id"] for m in final if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    assert len(ids) == 3 and len(set(ids)) == 3 and all(ids)  # duplicate and missing fixed
    assert [m["tool_call_id"] for m in final if m["role"] == "tool"] == ids
    tool_contents = [m["content"] for m in final if m["role"] == "tool"]
    assert "unexpected data after the object" in tool_contents[1]


async def test_schema_errors_go_back_to_the_model(model, workspace, state_dir):
    result, recorder = await ask(
        model,
        workspace,
        state_dir,
        {"tool_calls": [{"name": "delete_everything", "arguments": {}}]},
        read_call({}),
        read_call({"path": "app.py", "limit": "100"}),
        read_call({"path": "app.py", "limit": True}),
        {"text": "gave up"},
    )
    assert result["stopReason"] == "done" and result["toolCalls"] == 4
    summaries = [e["summary"] for e in recorder.events if e["kind"] == "toolResult"]
    assert "unknown tool 'delete_everything'" in summaries[0]
    assert "path" in summaries[1] and "required" in summaries[1].lower()
    assert all("limit" in s for s in summaries[2:])
    assert not any(e["ok"] for e in recorder.events if e["kind"] == "toolResult")


async def test_ollama_object_arguments_and_empty_streamed_tool_turn(model, workspace, state_dir):
    as_object = {
        "raw_sse": [
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "read_file"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": {"path": "app.py"}}}]}),
            chunk({}, "tool_calls"),
            "[DONE]",
        ]
    }
    empty = {"text": "", "finish_reason": "stop"}
    result, recorder = await ask(
        model, workspace, state_dir, as_object, empty, read_call({"path": "app.py"}), {"text": "ok"}
    )
    assert result["stopReason"] == "done" and result["toolCalls"] == 2
    assert all(e["ok"] for e in recorder.events if e["kind"] == "toolResult")
    requests = model.chat_requests()
    assert [bool(r.get("stream")) for r in requests] == [True, True, False, True]
    assert any("without streaming" in n for n in notices(recorder))


# -- BF-12, BF-13, BF-14, BF-16 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>502 Bad Gateway " + "x" * 2000 + "</body></html>",
        json.dumps({"error": {"message": f"upstream exploded, key {API_KEY}"}}),
        '{"choices": [',
    ],
)
async def test_200_with_something_else_than_a_completion(model, workspace, state_dir, body):
    result, _ = await ask(
        model, workspace, state_dir, {"status": 200, "body": body, "headers": {"X-A": "b"}}
    )
    assert result["stopReason"] == "error"
    assert "the backend returned an invalid response" in result["text"]
    assert API_KEY not in result["text"] and len(result["text"]) < 800
    assert len(model.chat_requests()) == 1


async def test_context_overflow_compacts_once_and_retries_once(model, workspace, state_dir):
    (workspace / "big.py").write_text("x = 1\n" * 200)
    reads = [read_call({"path": "big.py"}, id=f"r{n}") for n in range(4)]
    overflow = {"status": 400, "body": {"error": {"message": "maximum context length exceeded"}}}
    never = {"text": "must not be requested"}
    # The context engine summarises (one model call) before its single retry.
    model.add(*reads, {"text": "read"})
    model.add(overflow, {"text": "summary one"}, {"text": "answered after compaction"})
    model.add(overflow, {"text": "summary two"}, overflow, never)
    async with claw_on(model.base_url, workspace, state_dir) as claw:
        first = await claw.ask("read big.py four times")
        before = len(model.chat_requests())
        second = await claw.ask("summarise")
        overflowing, retried = model.chat_requests()[before], model.chat_requests()[-1]
        third = await claw.ask("and again")
    assert first["stopReason"] == "done"
    assert second["stopReason"] == "done" and second["text"] == "answered after compaction"
    assert len(json.dumps(retried["messages"])) < len(json.dumps(overflowing["messages"]))
    assert any("compact" in n for n in notices(claw.recorder))
    assert third["stopReason"] == "error" and "context window" in third["text"]
    assert model.replies == [never]  # one compaction and one retry per turn, no loop


@pytest.mark.parametrize("arguments", ['{"path": "app.py"}', '{"path": "app.py"'])
async def test_length_cut_tool_call_is_not_run(model, workspace, state_dir, arguments):
    result, recorder = await ask(
        model,
        workspace,
        state_dir,
        {**read_call(arguments), "finish_reason": "length"},
        {"text": "I will split it"},
    )
    assert result["stopReason"] == "done" and result["toolCalls"] == 0
    assert "toolCall" not in recorder.kinds()
    assert model.chat_requests()[1]["messages"][-1]["content"] == TRUNCATED_CALL_NOTE


async def test_huge_reply_is_capped_and_control_characters_escaped(model, workspace, state_dir):
    huge = "\x1b[2J\x07" + "a" * 10_000_000
    result, recorder = await ask(model, workspace, state_dir, {"text": huge, "chunks": 4})
    assert result["stopReason"] == "done"
    assert len(result["text"]) <= 1_000_010
    assert result["text"].startswith("\\x1b[2J\\x07aaa") and "\x1b" not in result["text"]
    assert any("exceeded" in n for n in notices(recorder))
