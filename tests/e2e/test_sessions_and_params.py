"""Sessions per folder, resume after restart, and argument validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


async def test_two_folders_keep_separate_sessions(
    model: ScriptedModel, tmp_path: Path, state_dir: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    model.add({"text": "one"}, {"text": "two"})
    claw = await start_claw([a, b], server_env(model.base_url, state_dir))
    try:
        first = await claw.ask("in a", folder=a.as_uri())
        second = await claw.ask("in b", folder=b.as_uri())
        sessions_a = await claw.command("claw.sessions", {"folder": a.as_uri()})
        sessions_b = await claw.command("claw.sessions", {"folder": b.as_uri()})
    finally:
        await claw.client.shutdown_session()
    assert first["session"] != second["session"]
    assert [s["id"] for s in sessions_a] == [first["session"]]
    assert [s["id"] for s in sessions_b] == [second["session"]]
    assert sessions_a[0]["title"] == "in a"
    # The second request carried only folder b's conversation.
    assert "in a" not in str(model.chat_requests()[1]["messages"])


async def test_session_continues_after_restart(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "first answer"}, {"text": "second answer"})
    env = server_env(model.base_url, state_dir)
    claw = await start_claw([workspace], env)
    try:
        first = await claw.ask("remember the word banana")
    finally:
        await claw.client.shutdown_session()
    claw = await start_claw([workspace], env)
    try:
        second = await claw.ask("what was the word?")
        history = await claw.command("claw.history", {"session": second["session"]})
    finally:
        await claw.client.shutdown_session()
    assert second["session"] == first["session"]
    assert second["turn"] == 2
    messages = model.chat_requests()[1]["messages"]
    assert any("banana" in str(m.get("content")) for m in messages)
    assert any(m.get("content") == "first answer" for m in messages)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ([{}], "prompt"),
        ([{"prompt": 42}], "prompt"),
        (["garbage"], "JSON object"),
        ([{"prompt": "x"}, {"prompt": "y"}], "exactly one argument"),
        ([{"prompt": "x", "editMode": "yolo"}], "editMode"),
        ([{"prompt": "x", "range": {"start": {"line": -1, "character": 0}}}], "range"),
    ],
)
async def test_bad_ask_arguments_are_invalid_params_naming_the_field(
    model: ScriptedModel, workspace: Path, state_dir: Path, arguments: list, field: str
) -> None:
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        with pytest.raises(JsonRpcInvalidParams) as caught:
            await claw.command("claw.ask", raw_arguments=arguments)
        # The server is still answering.
        assert await claw.command("claw.sessions") == []
    finally:
        await claw.client.shutdown_session()
    assert field in str(caught.value)
    assert not model.chat_requests()


async def test_huge_prompt_is_rejected(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        with pytest.raises(JsonRpcInvalidParams) as caught:
            await claw.ask("x" * 2_000_000)
    finally:
        await claw.client.shutdown_session()
    assert "limit" in str(caught.value)


async def test_concurrent_prompts_in_one_folder_are_serialised(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    import asyncio

    model.add({"text": "first " * 20, "chunks": 20, "chunk_delay": 0.02}, {"text": "second"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        first, second = await asyncio.gather(claw.ask("one"), claw.ask("two"))
    finally:
        await claw.client.shutdown_session()
    assert (first["turn"], second["turn"]) == (1, 2)
    # The second turn saw the first turn's answer.
    second_request = model.chat_requests()[1]["messages"]
    assert any(m["role"] == "assistant" and "first" in m["content"] for m in second_request)
