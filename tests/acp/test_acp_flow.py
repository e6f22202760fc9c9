"""`claw-lsp acp` as a subprocess, driven by the official ACP SDK's client side against the
scripted model server: the whole flow an editor (Zed, JetBrains, CodeCompanion) goes through."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest
from acp import RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    EnvVariable,
    McpServerStdio,
    TextContentBlock,
    TextResourceContents,
)

from tests.acp.client import SECRET, RecordingClient, acp_agent
from tests.support.calls import call, tool_results
from tests.support.lsp import server_env
from tests.support.mcp import calls_of
from tests.support.scripted_model import ScriptedModel

REPO = Path(__file__).resolve().parents[2]
EDIT_SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
    {
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {"path": "app.py", "old_text": "hello", "new_text": "hi"},
            }
        ]
    },
    # A prompt-injected model echoing the key: it must reach the client masked.
    {"text": f"Done: greeting shortened. ({SECRET})"},
]


def text(value: str) -> list[TextContentBlock]:
    return [TextContentBlock(type="text", text=value)]


async def test_initialize_advertises_what_claw_does(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    async with acp_agent(server_env(model.base_url, state_dir), tmp_path, fs=False) as agent:
        init = agent.init
        assert init["protocol_version"] == 1
        caps = init["agent_capabilities"]
        assert caps["load_session"] is True
        assert caps["prompt_capabilities"] == {
            "image": False,
            "audio": False,
            "embedded_context": True,
            "field_meta": None,
        }
        assert caps["mcp_capabilities"]["http"] is True
        assert caps["session_capabilities"]["list"] is not None
        # A client speaking a newer version gets ours (the latest we speak).
        again = await agent.conn.initialize(protocol_version=7)
        assert again.protocol_version == 1
        new = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        modes = [m.id for m in new.modes.available_modes]
        assert modes == [
            "read-only",
            "write",
            "shell",
            "plan",
        ]  # unsafe: only from the user's config
        assert new.modes.current_mode_id == "read-only"
        mode_option, model_option = new.config_options
        assert mode_option.id == "mode" and mode_option.current_value == "read-only"
        assert model_option.id == "model" and model_option.current_value == "scripted"
        # The model switch is claw's /model; the mode switch is the tier, through either API.
        changed = await agent.conn.set_config_option(
            config_id="mode", session_id=new.session_id, value="write"
        )
        assert changed.config_options[0].current_value == "write"
        await agent.conn.set_config_option(
            config_id="model", session_id=new.session_id, value="other-model"
        )
        model.add({"text": "hi"})
        answered = await agent.conn.prompt(session_id=new.session_id, prompt=text("/help"))
        assert answered.stop_reason == "end_turn"
        assert "/model" in agent.client.message_text()  # a slash command: answered locally
        (commands,) = agent.client.of("available_commands_update")
        names = [c.name for c in commands.available_commands]
        assert {"help", "model", "context"} <= set(names)
        assert model.chat_requests() == []
        await agent.conn.prompt(session_id=new.session_id, prompt=text("hello"))
        assert model.chat_requests()[0]["model"] == "other-model"


@pytest.mark.parametrize("fs", [True, False], ids=["client-fs", "disk"])
async def test_prompt_reads_and_edits_with_a_diff(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path, fs: bool
) -> None:
    model.add(*EDIT_SCRIPT)
    before = (workspace / "app.py").read_text()
    async with acp_agent(server_env(model.base_url, state_dir), tmp_path, fs=fs) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        await agent.conn.set_session_mode(session_id=session.session_id, mode_id="write")
        done = await asyncio.wait_for(
            agent.conn.prompt(session_id=session.session_id, prompt=text("shorten the greeting")),
            60,
        )
        client = agent.client
    assert done.stop_reason == "end_turn"
    starts = client.of("tool_call")
    assert [(s.kind, s.title) for s in starts] == [
        ("read", "read_file: app.py"),
        ("edit", "edit_file: app.py"),
    ]
    assert starts[1].locations[0].path == str(workspace / "app.py")
    progress = client.of("tool_call_update")
    diffs = [c for u in progress for c in (u.content or []) if c.type == "diff"]
    assert len(diffs) == 1 and diffs[0].path == str(workspace / "app.py")
    assert diffs[0].old_text == before and "'hi '" in diffs[0].new_text
    statuses = [(u.tool_call_id, u.status) for u in progress if u.status in ("completed", "failed")]
    assert [s for _, s in statuses] == ["completed", "completed"]
    read_output = next(
        u for u in progress if u.tool_call_id == starts[0].tool_call_id and u.content
    )
    assert "return 'hello ' + name" in read_output.content[0].content.text  # the whole output
    message = client.message_text()
    assert "Done: greeting shortened." in message and SECRET not in message
    assert client.of("usage_update") and client.of("usage_update")[-1].size > 0
    if fs:
        # The write went to the editor (its buffer, its undo); the disk is the editor's call.
        (write,) = client.writes
        assert write["path"] == str(workspace / "app.py") and "'hi '" in write["content"]
        assert (workspace / "app.py").read_text() == before
    else:
        assert client.writes == []
        assert "'hi '" in (workspace / "app.py").read_text()
        assert not list(workspace.glob(".claw-tmp*"))


async def test_write_at_read_only_asks_and_a_rejection_writes_nothing(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add(
        # The model puts the key into the call: the tool call's raw input and the permission
        # question carry it, and egress masks it in both.
        call("write_file", path="x.txt", content=f"key={SECRET}"),
        {"text": "could not write"},
    )
    client = RecordingClient(permission_answers=["reject"])
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=True, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("write x"))
    assert done.stop_reason == "end_turn"
    (asked,) = client.permissions
    assert asked["options"] == ["allow-once", "allow-session", "reject"]
    (started,) = client.of("tool_call")
    assert asked["tool_call"].tool_call_id == started.tool_call_id
    assert "x.txt" in asked["tool_call"].title
    assert "[REDACTED]" in json.dumps(started.raw_input)
    failed = [u for u in client.of("tool_call_update") if u.status == "failed"]
    assert [u.tool_call_id for u in failed] == [started.tool_call_id]
    assert client.writes == [] and not (workspace / "x.txt").exists()
    tool_messages = [m for m in model.chat_requests()[1]["messages"] if m["role"] == "tool"]
    assert "denied" in tool_messages[-1]["content"].lower()


# Unique per run: another test's (or engineer's) sleep on this shared machine is not ours.
SLEEP = f"sleep 31.{os.getpid()}"


def _cmdlines() -> dict[str, str]:
    found = {}
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            found[pid.name] = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return found


def _sleeping() -> bool:
    """The command itself runs (not only the sandbox still starting up around it)."""
    return any(cmdline.strip() == SLEEP for cmdline in _cmdlines().values())


def _sleepers() -> list[str]:
    return [
        pid
        for pid, cmdline in _cmdlines().items()
        if f"{SLEEP}; echo done" in cmdline or cmdline.strip() == SLEEP
    ]


@pytest.mark.parametrize("during", ["stream", "shell"])
async def test_cancel_stops_the_turn_and_its_processes(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path, during: str
) -> None:
    if during == "stream":
        model.add({"text": "slow " * 300, "chunks": 300, "chunk_delay": 0.05})
    else:
        model.add(
            {"tool_calls": [{"name": "shell", "arguments": {"command": f"{SLEEP}; echo done"}}]}
        )
    client = RecordingClient(permission_answers=["allow-once"])
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        await agent.conn.set_session_mode(session_id=session.session_id, mode_id="shell")
        running = asyncio.ensure_future(
            agent.conn.prompt(session_id=session.session_id, prompt=text("go"))
        )
        deadline = time.monotonic() + 30
        while not (_sleeping() if during == "shell" else client.of("agent_message_chunk")):
            assert time.monotonic() < deadline, client.kinds()
            assert not running.done(), running.result()
            await asyncio.sleep(0.05)
        started = time.monotonic()
        await agent.conn.cancel(session_id=session.session_id)
        done = await asyncio.wait_for(running, 10)
        elapsed = time.monotonic() - started
        # The agent goes on serving: the next prompt in the same session works.
        model.add({"text": "still here"})
        again = await agent.conn.prompt(session_id=session.session_id, prompt=text("again"))
    assert done.stop_reason == "cancelled"
    assert again.stop_reason == "end_turn" and "still here" in client.message_text()
    assert not _sleepers(), "the shell's process group must be gone"
    print(f"cancel ({during}) answered in {elapsed:.3f}s")
    assert elapsed < 5  # a loose bound (shared machine); the measured value is printed


async def test_load_after_a_restart_replays_the_history(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add(*EDIT_SCRIPT, {"text": "the second answer"})
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        await agent.conn.set_session_mode(session_id=session.session_id, mode_id="write")
        await agent.conn.prompt(session_id=session.session_id, prompt=text("shorten it"))
    async with acp_agent(env, tmp_path, fs=False) as agent:
        listed = await agent.conn.list_sessions(cwd=str(workspace))
        assert [s.session_id for s in listed.sessions] == [session.session_id]
        assert listed.sessions[0].title == "shorten it"
        loaded = await agent.conn.load_session(
            cwd=str(workspace), session_id=session.session_id, mcp_servers=[]
        )
        replayed = list(agent.client.updates)
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("and now?"))
    assert loaded.modes.current_mode_id == "read-only"  # a tier never outlives the process
    kinds = [u.session_update for _, u in replayed]
    assert kinds[0] == "user_message_chunk" and replayed[0][1].content.text == "shorten it"
    assert kinds.count("tool_call") == 2
    assert "Done: greeting shortened." in "".join(
        u.content.text for _, u in replayed if u.session_update == "agent_message_chunk"
    )
    diffs_or_outputs = [u for _, u in replayed if u.session_update == "tool_call_update"]
    assert all(u.status == "completed" for u in diffs_or_outputs)
    # The continued session sends the model its history.
    assert done.stop_reason == "end_turn"
    last = model.chat_requests()[-1]["messages"]
    assert any("shorten it" in str(m.get("content")) for m in last if m["role"] == "user")


async def test_bad_requests_get_errors_and_the_agent_stays_up(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    model.add({"text": "fine"})
    async with acp_agent(server_env(model.base_url, state_dir), tmp_path, fs=False) as agent:
        raw = agent.conn._conn  # the SDK's JSON-RPC connection, to send what no typed call can
        agent.process.stdin.write(b"{this is not json\n")
        with pytest.raises(RequestError) as bad_params:
            await raw.send_request("session/prompt", {"prompt": "not a list"})
        assert bad_params.value.code == -32602
        with pytest.raises(RequestError) as unknown:
            await raw.send_request("session/teleport", {})
        assert unknown.value.code == -32601
        with pytest.raises(RequestError) as no_session:
            await agent.conn.prompt(session_id="nope", prompt=text("hi"))
        assert no_session.value.code == -32602 and "unknown session" in str(no_session.value.data)
        with pytest.raises(RequestError) as bad_cwd:
            await agent.conn.new_session(cwd="relative/dir", mcp_servers=[])
        assert "absolute" in json.dumps(bad_cwd.value.data)
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        with pytest.raises(RequestError) as bad_mode:
            await agent.conn.set_session_mode(session_id=session.session_id, mode_id="unsafe")
        assert "unknown mode" in json.dumps(bad_mode.value.data)
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("hello"))
        assert done.stop_reason == "end_turn" and agent.process.returncode is None
    errors = [f["message"] for f in agent.frames if "error" in f["message"]]
    assert errors and all("Traceback" not in json.dumps(e) for e in errors)


async def test_mcp_servers_from_session_new_run_under_the_same_approvals(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "calls.jsonl"
    fixture = McpServerStdio(
        name="fx",
        command=sys.executable,
        args=["-m", "tests.support.mcp_fixture", "--record", str(record)],
        env=[EnvVariable(name="PYTHONPATH", value=str(REPO))],
    )
    model.add(call("mcp__fx__write_note", text="hello"), {"text": "noted"})
    client = RecordingClient(permission_answers=["allow-once"])
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=False, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[fixture])
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("note it"))
    assert done.stop_reason == "end_turn"
    (asked,) = client.permissions  # an MCP tool runs unasked only at the unsafe tier
    assert "mcp__fx__write_note" in asked["tool_call"].title
    assert [c["arguments"] for c in calls_of(record, "write_note")] == [{"text": "hello"}]
    assert tool_results(model) == ["noted: hello"]
    (start,) = client.of("tool_call")
    assert start.kind == "other"


async def test_embedded_buffers_are_what_the_agent_reads(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    unsaved = "def greet(name):\n    return 'UNSAVED ' + name\n"
    model.add(call("read_file", path="app.py"), {"text": "read it"})
    # A client without fs reads: the embedded text is the only buffer claw knows of.
    async with acp_agent(server_env(model.base_url, state_dir), tmp_path, fs=False) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        uri = (workspace / "app.py").as_uri()
        blocks = [
            TextContentBlock(type="text", text="what does this do?"),
            EmbeddedResourceContentBlock(
                type="resource", resource=TextResourceContents(uri=uri, text=unsaved)
            ),
        ]
        done = await agent.conn.prompt(session_id=session.session_id, prompt=blocks)
    assert done.stop_reason == "end_turn"
    first_user = model.chat_requests()[0]["messages"][-1]["content"]
    assert '<attachment kind="file" name="app.py"' in first_user and "UNSAVED" in first_user
    assert "what does this do?\n\n@app.py" in first_user
    assert "UNSAVED" in tool_results(model)[0]  # read_file sees the client's buffer too
    assert "hello" in (workspace / "app.py").read_text()  # and the disk is untouched


async def test_a_backend_error_is_a_clear_json_rpc_error_without_the_key(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    body = {"error": {"message": f"invalid api key {SECRET}"}}
    model.add({"status": 401, "body": body}, {"text": "back again"})
    async with acp_agent(server_env(model.base_url, state_dir), tmp_path, fs=False) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        with pytest.raises(RequestError) as failed:
            await agent.conn.prompt(session_id=session.session_id, prompt=text("hi"))
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("again"))
    assert failed.value.code == -32603
    assert "check the API key" in json.dumps(failed.value.data)
    assert "Traceback" not in json.dumps(failed.value.data)
    assert done.stop_reason == "end_turn" and "back again" in agent.client.message_text()


async def test_reads_and_edits_see_the_editors_unsaved_buffer(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    path = str(workspace / "app.py")
    unsaved = "def greet(name):\n    return 'UNSAVED hello ' + name\n"
    client = RecordingClient(buffers={path: unsaved})
    model.add(
        call("read_file", path="app.py"),
        call("edit_file", path="app.py", old_text="UNSAVED hello", new_text="hi"),
        {"text": "edited the buffer"},
    )
    env = server_env(model.base_url, state_dir)
    async with acp_agent(env, tmp_path, fs=True, client=client) as agent:
        session = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        await agent.conn.set_session_mode(session_id=session.session_id, mode_id="write")
        done = await agent.conn.prompt(session_id=session.session_id, prompt=text("shorten"))
    assert done.stop_reason == "end_turn"
    assert client.reads == [path, path]  # before the read, and before the edit
    assert "UNSAVED hello" in tool_results(model)[0]
    (write,) = client.writes
    assert write["content"] == "def greet(name):\n    return 'hi ' + name\n"
    (diff,) = [
        c for u in client.of("tool_call_update") for c in (u.content or []) if c.type == "diff"
    ]
    assert diff.old_text == unsaved
    assert "hello" in (workspace / "app.py").read_text()  # the disk was never the source


async def test_unsafe_is_offered_only_when_the_users_own_config_chose_it(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    env = server_env(model.base_url, state_dir, CLAW_TIER="unsafe")
    async with acp_agent(env, tmp_path, fs=False) as agent:
        new = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        await agent.conn.set_session_mode(session_id=new.session_id, mode_id="read-only")
        await agent.conn.set_session_mode(session_id=new.session_id, mode_id="unsafe")
    modes = [m.id for m in new.modes.available_modes]
    assert modes == ["read-only", "write", "shell", "unsafe", "plan"]
    assert new.modes.current_mode_id == "unsafe"
