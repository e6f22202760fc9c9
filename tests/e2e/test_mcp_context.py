"""MCP beyond tool calls: deferred loading of a big server, resource mentions and the
read_mcp_resource tool, prompts as slash commands, /mcp and claw.mcpServers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.mcp import calls_of, stdio_entry, tool_names
from tests.support.scripted_model import ScriptedModel


async def test_a_40_tool_server_is_loaded_on_demand(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("mcp_tools"),
        call("mcp_tools", query="record 7"),
        call("mcp_tools", query="select:mcp__big__tool_033"),
        call("mcp__big__tool_007", record_id="r-1"),
        {"text": "found it"},
        {"text": "next turn"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={
            "mcpServers": {"big": stdio_entry(record, "--tools", "40")},
            "permissions": {"allow": ["mcp__big__tool_*"]},
        },
    )
    try:
        await claw.ask("look up record 7")
        await claw.ask("anything else?")
        context = await claw.ask("/context")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    first = tool_names(requests[0])
    assert "mcp_tools" in first and not [n for n in first if n.startswith("mcp__big__")]
    schemas = len(json.dumps([t for t in requests[0]["tools"] if "mcp" in t["function"]["name"]]))
    assert schemas < 4000  # mcpSchemaBudget: the 40 schemas are not sent
    listing, searched, selected, ran = tool_results(model)
    assert "49 MCP tools" in listing and "mcp__big__tool_039" in listing
    assert searched.startswith("Loaded, callable now: mcp__big__tool_007")
    assert selected.startswith("Loaded, callable now: mcp__big__tool_033")
    assert ran == "label 7 for r-1"
    assert calls_of(record, "tool_007") and not calls_of(record, "tool_033")
    loaded = [[n for n in tool_names(r) if n.startswith("mcp__big__")] for r in requests]
    assert loaded[0] == loaded[1] == []  # a listing loads nothing
    assert loaded[2][0] == "mcp__big__tool_007" and len(loaded[2]) == 3  # the best 3 matches
    assert loaded[3] == [*loaded[2], "mcp__big__tool_033"]
    # Loading appends: the earlier request's tool list is a prefix of the later one's.
    assert requests[3]["tools"][: len(requests[2]["tools"])] == requests[2]["tools"]
    # ... and the next turn of the session keeps its loads.
    assert requests[5]["tools"] == requests[4]["tools"] == requests[3]["tools"]
    assert "tool schemas" in context["text"]


async def test_resource_mention_is_attached_and_counted_and_the_model_can_read_resources(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add(
        call("read_mcp_resource", server="fx"),
        call("read_mcp_resource", server="fx", uri="note://readme"),
        {"text": "summarised"},
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": stdio_entry(record)}},
    )
    claw.recorder.approval_answers.append("Allow once")
    try:
        result = await claw.ask("summarise @fx:note://readme, please")
        context = await claw.ask("/context")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done"
    user = model.chat_requests()[0]["messages"][-1]["content"]
    assert '<attachment kind="resource" name="fx:note://readme" server="fx">' in user
    assert "README TEXT FROM MCP" in user
    assert user.endswith("summarise @fx:note://readme, please")
    listing, read = tool_results(model)
    assert "note://readme" in listing  # listing is local: no approval needed
    assert read == "README TEXT FROM MCP"
    (approval,) = claw.recorder.approvals  # reading asks (fx is not trusted)
    assert "read_mcp_resource" in approval.message and "note://readme" in approval.message
    assert "attachments (@-mentions)" in context["text"]


async def test_prompt_as_slash_command_and_in_help_and_mcp_servers(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    model.add({"text": "reviewed"})
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        init_options={"mcpServers": {"fx": stdio_entry(record)}},
    )
    try:
        help_text = (await claw.ask("/help"))["text"]
        servers = await claw.command("claw.mcpServers", {"start": True})
        usage = await claw.ask("/mcp__fx__review")
        result = await claw.ask('/mcp__fx__review "the parser" lang=fr')
        status = (await claw.ask("/mcp"))["text"]
    finally:
        await claw.client.shutdown_session()
    assert "/mcp__fx__review <topic> [lang]" in help_text and "/mcp " in help_text
    assert usage["stopReason"] == "local" and "needs topic" in usage["text"]
    assert result["stopReason"] == "done" and result["text"] == "reviewed"
    (request,) = model.chat_requests()
    assert request["messages"][-1]["content"].endswith("Please review the parser in fr.")
    (row,) = servers["servers"]
    assert row["name"] == "fx" and row["state"] == "ready" and row["tools"] == 9
    assert row["resources"] == 1 and row["prompts"][0]["command"] == "/mcp__fx__review"
    assert row["transport"] == "stdio" and "tests.support.mcp_fixture" in row["target"]
    assert "fx" in status and "9 tools, 1 resources, 1 prompts" in status


async def test_doctor_checks_each_configured_server(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    servers = {"fx": stdio_entry(record), "gone": {"command": str(tmp_path / "missing")}}
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"mcpServers": servers}
    )
    try:
        report = await claw.command("claw.doctor", {})
    finally:
        await claw.client.shutdown_session()
    assert "MCP servers:" in report["text"]
    assert "fx: ready in" in report["text"] and "9 tools, 1 resources, 1 prompts" in report["text"]
    assert "gone: FAILED (command not found" in report["text"]
    rows = {row["name"]: row for row in report["report"]["mcp"]}
    assert rows["fx"]["state"] == "ready" and rows["gone"]["state"] == "failed"
    assert report["ok"] is False  # one configured server does not start
