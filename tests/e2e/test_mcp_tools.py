"""MCP tools through the real server and a real MCP server (the SDK's MCPServer fixture), over
stdio and streamable HTTP: approvals, rules, hidden tools, validation, results, the prefix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.mcp import calls_of, http_fixture, recorded, stdio_entry, tool_names
from tests.support.scripted_model import ScriptedModel


@pytest.fixture(params=["stdio", "http"])
def fixture_entry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The fixture server's entry and where it records calls, over each transport."""
    record = tmp_path / "calls.jsonl"
    if request.param == "stdio":
        yield {"entry": stdio_entry(record), "record": record}
        return
    with http_fixture(record) as url:
        yield {"entry": {"type": "http", "url": url}, "record": record}


async def _ask(
    model: ScriptedModel,
    workspace: Path,
    state_dir: Path,
    servers: dict[str, Any],
    prompt: str,
    answers: list[str | None] = (),  # type: ignore[assignment]
    **options: Any,
) -> tuple[dict[str, Any], Any]:
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": servers, **options},
    )
    claw.recorder.approval_answers += list(answers)
    try:
        result = await claw.ask(prompt)
    finally:
        await claw.client.shutdown_session()
    return result, claw.recorder


async def test_call_runs_after_allow_once_and_its_result_reaches_the_next_request(
    model: ScriptedModel, workspace: Path, state_dir: Path, fixture_entry: dict[str, Any]
) -> None:
    model.add(call("mcp__fx__write_note", text="hello"), {"text": "done"})
    result, recorder = await _ask(
        model, workspace, state_dir, {"fx": fixture_entry["entry"]}, "note it", ["Allow once"]
    )
    assert result["stopReason"] == "done"
    (approval,) = recorder.approvals
    assert "mcp__fx__write_note" in approval.message and "write_note" in approval.message
    assert '{"text":"hello"}' in approval.message
    assert [a.title for a in approval.actions] == ["Allow once", "Allow for session", "Deny"]
    assert [c["arguments"] for c in calls_of(fixture_entry["record"], "write_note")] == [
        {"text": "hello"}
    ]
    assert tool_results(model) == ["noted: hello"]
    first = model.chat_requests()[0]
    assert {"mcp__fx__write_note", "mcp__fx__echo", "read_mcp_resource"} <= set(tool_names(first))


async def test_deny_is_a_tool_error_and_nothing_runs(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(call("mcp__fx__write_note", text="x"), {"text": "ok"})
    result, recorder = await _ask(
        model, workspace, state_dir, {"fx": stdio_entry(record)}, "note", ["Deny"]
    )
    assert result["stopReason"] == "done"
    assert len(recorder.approvals) == 1
    (text,) = tool_results(model)
    assert text.startswith("Error: permission denied") and "declined" in text
    assert recorded(record) == []  # the fixture never ran the call
    assert {"kind": "approval", "tool": "mcp__fx__write_note", "decision": "deny"}.items() <= {
        k: v for e in recorder.events if e["kind"] == "approval" for k, v in e.items()
    }.items()


async def test_rule_allowed_tool_runs_without_a_dialog_and_session_grant_covers_repeats(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("mcp__fx__echo", text="a"),
        call("mcp__fx__write_note", text="1"),
        call("mcp__fx__write_note", text="2"),
        {"text": "ok"},
    )
    _, recorder = await _ask(
        model,
        workspace,
        state_dir,
        {"fx": stdio_entry(record)},
        "go",
        ["Allow for session"],
        permissions={"allow": ["mcp__fx__echo"]},
    )
    # echo: allowed by the rule, no dialog; write_note: asked once, then the session grant.
    assert len(recorder.approvals) == 1 and "write_note" in recorder.approvals[0].message
    assert [c["tool"] for c in recorded(record)] == ["echo", "write_note", "write_note"]
    assert tool_results(model) == ["echo: a", "noted: 1", "noted: 2"]


async def test_approvals_deny_offers_only_tools_that_could_run_unasked(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    trusted_record = tmp_path / "trusted.jsonl"
    model.add(call("mcp__fx__write_note", text="x"), {"text": "ok"})
    _, recorder = await _ask(
        model,
        workspace,
        state_dir,
        {"fx": stdio_entry(record), "tr": stdio_entry(trusted_record, trusted=True)},
        "go",
        approvals="deny",
        permissions={"allow": ["mcp__fx__add"]},
    )
    names = tool_names(model.chat_requests()[0])
    mcp_names = sorted(n for n in names if n.startswith("mcp__"))
    # fx: only the rule-allowed tool; tr (trusted): its readOnlyHint tools (echo, add).
    assert mcp_names == ["mcp__fx__add", "mcp__tr__add", "mcp__tr__echo"]
    assert not recorder.approvals
    assert "unknown tool 'mcp__fx__write_note'" in tool_results(model)[0]
    assert recorded(record) == []


async def test_invalid_arguments_never_reach_the_server(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("mcp__fx__add", a="one", b=2),
        call("mcp__fx__add", a=1),
        call("mcp__fx__add", a=1, b=2),
        {"text": "ok"},
    )
    _, recorder = await _ask(
        model,
        workspace,
        state_dir,
        {"fx": stdio_entry(record)},
        "add",
        permissions={"allow": ["mcp__fx__*"]},
    )
    first, second, third = tool_results(model)
    assert first.startswith("Error: invalid arguments for mcp__fx__add: a: 'one' is not of type")
    assert "Nothing was sent to the server" in first
    assert "'b' is a required property" in second
    assert third == "3"
    assert [c["arguments"] for c in calls_of(record, "add")] == [{"a": 1, "b": 2}]
    assert not recorder.approvals


async def test_results_errors_images_and_structured_content(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(call("mcp__fx__fail"), call("mcp__fx__picture"), {"text": "ok"})
    result, recorder = await _ask(
        model,
        workspace,
        state_dir,
        {"fx": stdio_entry(record)},
        "go",
        permissions={"allow": ["mcp__fx"]},  # a whole server by name
    )
    failed, picture = tool_results(model)
    assert failed.startswith("Error: mcp__fx__fail reported an error") and "fail" in failed
    assert picture == "[image: image/png, 70 bytes, not shown]\na red dot"
    oks = [e["ok"] for e in recorder.events if e["kind"] == "toolResult"]
    assert oks == [False, True] and result["stopReason"] == "done"


async def test_tool_order_and_the_whole_prefix_are_byte_identical_across_requests(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(call("mcp__fx__echo", text="1"), call("mcp__fx__echo", text="2"), {"text": "ok"})
    await _ask(
        model,
        workspace,
        state_dir,
        {"fx": stdio_entry(record)},
        "go",
        permissions={"allow": ["mcp__fx__echo"]},
    )
    requests = model.chat_requests()
    assert len(requests) == 3
    prefixes = {
        json.dumps({"tools": r["tools"], "system": r["messages"][0]}, sort_keys=False)
        for r in requests
    }
    assert len(prefixes) == 1
    names = tool_names(requests[0])
    mcp = [n for n in names if n.startswith("mcp__")]
    assert mcp == sorted(mcp) and names[: names.index(mcp[0])][-1] == "read_mcp_resource"
    assert names[0] == "list_dir"  # the built-ins first, in their fixed order
