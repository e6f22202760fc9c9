"""SF rows: session history is durable, private, bounded, and never takes the agent down."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from claw_lsp.sessions.records import folder_key
from claw_lsp.sessions.store import SessionStore
from tests.security.conftest import Harness
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def message(turn: int, text: str) -> dict[str, object]:
    return {"type": "message", "turn": turn, "message": {"role": "user", "content": text}}


def test_sf01_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state")
    uri = (tmp_path / "ws").as_uri()
    session = store.create(uri)
    store.append(uri, session, [message(1, "one"), message(1, "two")])
    path = store.session_path(uri, session)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])  # SIGKILL in the middle of the last record
    loaded = store.load(uri, session)
    assert loaded is not None and loaded.skipped == 1
    assert [r["message"]["content"] for r in loaded.records] == ["one"]
    store.append(uri, session, [message(2, "three")])
    again = store.load(uri, session)
    assert again is not None and again.skipped == 1
    assert [r["message"]["content"] for r in again.records] == ["one", "three"]


def test_sf02_index_writes_are_atomic_and_temp_files_cleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SessionStore(tmp_path / "state")
    uri = (tmp_path / "ws").as_uri()
    first = store.create(uri, title="first")
    index = next((tmp_path / "state").rglob("index.json"))
    before = index.read_bytes()

    def killed_before_rename(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", killed_before_rename)
    store.create(uri, title="second")
    monkeypatch.undo()
    assert index.read_bytes() == before and json.loads(before)  # the old file, whole
    leftover = index.parent / ".claw-tmp-deadbeef"
    leftover.write_text("{")
    os.utime(leftover, (0, 0))
    SessionStore(tmp_path / "state").cleanup_temp_files()
    assert not leftover.exists()
    assert first in {s.id for s in SessionStore(tmp_path / "state").list(uri)}


async def test_sf03_unwritable_history_warns_once_and_the_agent_keeps_working(
    model: ScriptedModel, workspace: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")  # root ignores chmod; a file in the path fails for everyone
    model.add({"text": "one"}, {"text": "two"})
    claw = await start_claw([workspace], server_env(model.base_url, blocker / "state"))
    try:
        first = await claw.ask("hello")
        second = await claw.ask("again")
    finally:
        await claw.client.shutdown_session()
    assert first["text"] == "one" and second["text"] == "two"
    warnings = [m.message for m in claw.recorder.messages if "history" in m.message]
    assert len(warnings) == 1 and "history not being saved" in warnings[0]


def _hammer(state: str, uri: str, session: str, worker: int) -> None:
    store = SessionStore(Path(state))
    for n in range(150):
        store.append(uri, session, [message(n, f"{worker}-{n}-" + "z" * 9000)])


def test_sf04_two_servers_never_interleave_a_line(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state")
    uri = (tmp_path / "ws").as_uri()
    session = store.create(uri)
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_hammer, args=(str(tmp_path / "state"), uri, session, w))
        for w in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    lines = store.session_path(uri, session).read_bytes().splitlines()
    assert len(lines) == 1 + 300
    assert all(json.loads(line) for line in lines)
    assert SessionStore(tmp_path / "state").create(uri) != session  # separate files per session


async def test_sf06_sf10_location_and_modes_and_no_sqlite(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "ok"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        result = await claw.ask("hi")
    finally:
        await claw.client.shutdown_session()
    folder = state_dir / "folders" / folder_key(workspace.as_uri())
    session_file = folder / "sessions" / f"{result['session']}.jsonl"
    assert session_file.exists()
    assert not any(p.name not in ("app.py",) for p in workspace.iterdir())  # not in the repo
    for path in [state_dir, *state_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    header = json.loads(session_file.read_text().splitlines()[0])
    assert str(workspace.resolve()) in json.dumps(header)  # the canonical path is in meta
    assert not [p for p in state_dir.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3")]


async def test_sf09_a_50mb_tool_output_is_persisted_capped(harness: Harness) -> None:
    harness.set(tier=Tier.SHELL)
    result = await harness.call(
        "shell", {"command": "head -c 50000000 /dev/zero | tr '\\0' 'a'"}, "once"
    )
    assert len(result.content) < 30_000 and "omitted" in result.content


async def test_sf11_records_are_on_disk_before_the_reply(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
        {"text": "final answer"},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    result = await claw.ask("read app.py")
    server = claw.client._server  # type: ignore[attr-defined]
    os.kill(server.pid, signal.SIGKILL)  # no shutdown, no flush, no exit handler
    await server.wait()
    path = state_dir / "folders" / folder_key(workspace.as_uri()) / "sessions"
    records = [json.loads(line) for line in (path / f"{result['session']}.jsonl").open()]
    kinds = [(r["type"], r.get("message", {}).get("role")) for r in records]
    assert kinds == [
        ("header", None),
        ("message", "user"),
        ("message", "assistant"),
        ("message", "tool"),
        ("message", "assistant"),
        ("turn", None),
    ]
    assert records[-2]["message"]["content"] == "final answer"


def test_sf12_a_renamed_folder_keeps_writing_to_the_same_history(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    store = SessionStore(tmp_path / "state")
    uri = folder.as_uri()
    session = store.create(uri)
    folder.rename(tmp_path / "renamed")
    assert store.append(uri, session, [message(1, "after rename")])
    loaded = store.load(uri, session)
    assert loaded is not None and loaded.records[-1]["message"]["content"] == "after rename"
