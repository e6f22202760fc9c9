"""Session store: JSONL history, atomic index, degraded storage, locking, redaction."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from claw_lsp.foundation.secrets import register_secret
from claw_lsp.sessions.export import export_markdown
from claw_lsp.sessions.store import (
    SessionNotFoundError,
    SessionStore,
    folder_key,
    validate_session_id,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "my project"
    folder.mkdir()
    return folder


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def uri_of(folder: Path) -> str:
    return folder.as_uri()


def message(turn: int, role: str, content: str) -> dict[str, Any]:
    return {"type": "message", "turn": turn, "message": {"role": role, "content": content}}


def turn_end(turn: int) -> dict[str, Any]:
    return {"type": "turn", "turn": turn, "stopReason": "end_turn", "usage": {}, "edits": []}


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_create_append_load_round_trip(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri, title="Fix the parser\nsecond line")
    assert store.current(uri) == session_id
    assert store.append(uri, session_id, [message(1, "user", "hi"), turn_end(1)])

    loaded = store.load(uri, session_id)
    assert loaded is not None
    assert loaded.header["type"] == "header" and loaded.header["version"] == 1
    assert loaded.header["id"] == session_id and loaded.header["folderUri"] == uri
    assert loaded.header["title"] == "Fix the parser"
    assert [r["type"] for r in loaded.records] == ["message", "turn"]
    assert loaded.skipped == 0
    [info] = store.list(uri)
    assert (info.id, info.turns, info.title) == (session_id, 1, "Fix the parser")
    assert store.load(uri, "20260101-000000-deadbeef") is None


def test_layout_and_folder_key(state_dir: Path, workspace: Path, tmp_path: Path) -> None:
    store = SessionStore(state_dir)
    session_id = store.create(uri_of(workspace))
    key = folder_key(uri_of(workspace))
    assert key.startswith("my-project-") and len(key.split("-")[-1]) == 16
    expected = state_dir / "folders" / key / "sessions" / f"{session_id}.jsonl"
    assert store.session_path(uri_of(workspace), session_id) == expected
    assert expected.is_file()
    index = json.loads((state_dir / "folders" / key / "index.json").read_text())
    assert index["folderUri"] == uri_of(workspace)
    assert index["canonicalPath"] == str(workspace.resolve())
    assert index["current"] == session_id

    # A symlinked path to the same folder is the same history; a URL-ish folder hashes its URI.
    link = tmp_path / "link"
    link.symlink_to(workspace)
    assert folder_key(uri_of(link)) == key
    assert folder_key("vscode-vfs://github/o/r") != folder_key("vscode-vfs://github/o/s")


def test_private_modes(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    store.append(uri, session_id, [message(1, "user", "x")])
    folder_dir = store.session_path(uri, session_id).parent.parent
    for directory in (state_dir, state_dir / "folders", folder_dir, folder_dir / "sessions"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for file in (store.session_path(uri, session_id), folder_dir / "index.json"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE((folder_dir / "index.lock").stat().st_mode) == 0o600


@pytest.mark.parametrize("bad_id", ["../x", "..", ".", "", "a/b", "x" * 81, "a b", "ü"])
def test_outside_session_ids_are_validated(state_dir: Path, workspace: Path, bad_id: str) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    store.create(uri)
    with pytest.raises(ValueError, match="invalid session id"):
        validate_session_id(bad_id)
    for call in (
        lambda: store.load(uri, bad_id),
        lambda: store.append(uri, bad_id, [message(1, "user", "x")]),
        lambda: store.fork(uri, bad_id),
        lambda: store.delete(uri, bad_id),
        lambda: store.set_current(uri, bad_id),
        lambda: store.session_path(uri, bad_id),
    ):
        with pytest.raises(ValueError, match="invalid session id"):
            call()
    assert not (state_dir / "folders" / "x.jsonl").exists()


def test_torn_last_line_is_skipped_and_later_appends_stay_whole(
    state_dir: Path, workspace: Path
) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    store.append(uri, session_id, [message(1, "user", "first"), turn_end(1)])
    path = store.session_path(uri, session_id)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"type": "message", "turn": 2, "mess')  # SIGKILL mid-write

    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.skipped == 1
    assert [r["type"] for r in loaded.records] == ["message", "turn"]

    assert store.append(uri, session_id, [message(2, "user", "again")])
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.skipped == 1
    assert loaded.records[-1]["message"]["content"] == "again"


def test_invalid_lines_of_every_kind_are_skipped(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    path = store.session_path(uri, session_id)
    with path.open("ab") as f:
        f.write(b"[1, 2]\n{}\nnot json\n\xff\xfe\n" + b"[" * 100_000 + b"\n")
        f.write(b'{"type": "header", "version": 1, "id": "x"}\n')
        f.write(b'{"type": "note", "text": "kept"}\n')
    loaded = store.load(uri, session_id)
    assert loaded is not None
    assert loaded.skipped == 6
    assert loaded.records == [{"type": "note", "text": "kept"}]


def test_unknown_header_version_is_skipped(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    path = store.session_path(uri, "imported-1")
    path.parent.mkdir(parents=True)
    path.write_text(
        '{"type": "header", "version": 9, "id": "imported-1"}\n'
        + json.dumps(message(1, "user", "hello"))
        + "\n"
    )
    loaded = store.load(uri, "imported-1")
    assert loaded is not None and loaded.skipped == 1
    assert loaded.header["version"] == 1 and loaded.header["id"] == "imported-1"
    assert len(loaded.records) == 1


def test_corrupt_or_missing_index_is_rebuilt_from_headers(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    first = store.create(uri)
    store.append(
        uri, first, [message(1, "user", "Explain main.py\nplease"), turn_end(1), turn_end(2)]
    )
    second = store.create(uri, title="named")
    index_path = store.session_path(uri, first).parent.parent / "index.json"

    for damage in (b'{"sessions": [', b"", b'{"sessions": {"x": 3}}'):
        index_path.write_bytes(damage)
        fresh = SessionStore(state_dir)
        infos = {info.id: info for info in fresh.list(uri)}
        assert set(infos) == {first, second}
        assert (infos[first].turns, infos[first].title) == (2, "Explain main.py")
        assert infos[second].title == "named"
        assert json.loads(index_path.read_bytes())["sessions"].keys() == {first, second}

    index_path.unlink()
    assert {info.id for info in SessionStore(state_dir).list(uri)} == {first, second}


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from claw_lsp.sessions.store import SessionStore
    state, uri, stage = sys.argv[1:4]
    store = SessionStore(Path(state))
    real_replace = os.replace
    def crashing_replace(src, dst):
        if stage == "after-rename":
            real_replace(src, dst)
        os._exit(9)  # the process dies here, as under SIGKILL
    os.replace = crashing_replace
    store.create(uri, title="second")
    """
)


@pytest.mark.parametrize("stage", ["before-rename", "after-rename"])
def test_index_write_is_atomic_across_a_crash(state_dir: Path, workspace: Path, stage: str) -> None:
    uri = uri_of(workspace)
    first = SessionStore(state_dir).create(uri, title="first")
    result = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(state_dir), uri, stage],
        cwd=REPO_ROOT,
        capture_output=True,
    )
    assert result.returncode == 9, result.stderr
    folder_dir = state_dir / "folders" / folder_key(uri)
    index = json.loads((folder_dir / "index.json").read_bytes())  # never empty or truncated
    temps = [p for p in folder_dir.iterdir() if p.name.startswith(".claw-tmp-")]
    if stage == "before-rename":
        assert set(index["sessions"]) == {first}
        assert len(temps) == 1
    else:
        assert len(index["sessions"]) == 2
        assert temps == []

    restarted = SessionStore(state_dir)
    restarted.cleanup_temp_files()
    assert [p for p in folder_dir.iterdir() if p.name.startswith(".claw-tmp-")] == []
    assert first in {info.id for info in restarted.list(uri)}


def test_enospc_warns_once_never_raises_and_reports_recovery(
    state_dir: Path, workspace: Path
) -> None:
    warnings: list[str] = []
    store = SessionStore(state_dir, on_warning=warnings.append)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    path = store.session_path(uri, session_id)
    path.unlink()
    path.symlink_to("/dev/full")  # every write fails with ENOSPC

    assert store.append(uri, session_id, [message(1, "user", "a")]) is False
    assert store.append(uri, session_id, [message(2, "user", "b")]) is False
    assert warnings == ["history not being saved: No space left on device"]

    path.unlink()  # space came back
    assert store.append(uri, session_id, [message(3, "user", "c")]) is True
    assert warnings[1:] == ["history is being saved again"]
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.header["id"] == session_id
    assert [r["turn"] for r in loaded.records] == [3]


def test_unwritable_session_dir_degrades_with_one_warning(state_dir: Path, workspace: Path) -> None:
    warnings: list[str] = []
    store = SessionStore(state_dir, on_warning=warnings.append)
    uri = uri_of(workspace)
    sessions_dir = state_dir / "folders" / folder_key(uri) / "sessions"
    sessions_dir.parent.mkdir(parents=True)
    sessions_dir.write_text("not a directory")  # open() under it fails even for root

    session_id = store.create(uri, title="kept for later")
    assert store.append(uri, session_id, [message(1, "user", "a")]) is False
    store.set_title(uri, session_id, "x")
    store.set_current(uri, session_id)  # known to this process though not on disk yet
    assert len(warnings) == 1 and warnings[0].startswith("history not being saved: ")

    sessions_dir.unlink()
    assert store.append(uri, session_id, [message(2, "user", "b"), turn_end(2)]) is True
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.header["title"] == "kept for later"  # pending header
    assert [info.id for info in store.list(uri)] == [session_id]


FSIZE_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from claw_lsp.sessions.store import SessionStore
    state, uri, session_id = sys.argv[1:4]
    store = SessionStore(Path(state), on_warning=lambda m: print("WARN", m))
    size = store.session_path(uri, session_id).stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1000, size + 1000))
    ok = store.append(uri, session_id, [{"type": "note", "text": "x" * 5000}])
    print("OK" if ok else "FAILED")
    """
)


def test_disk_filling_mid_record_leaves_no_half_written_line(
    state_dir: Path, workspace: Path
) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    store.append(uri, session_id, [message(1, "user", "before")])
    path = store.session_path(uri, session_id)
    size_before = path.stat().st_size

    result = subprocess.run(
        [sys.executable, "-c", FSIZE_SCRIPT, str(state_dir), uri, session_id],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "WARN history not being saved: File too large",
        "FAILED",
    ]
    assert path.stat().st_size == size_before
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.skipped == 0 and len(loaded.records) == 1


def _hammer(state_dir: str, uri: str, session_id: str, writer: int) -> None:
    store = SessionStore(Path(state_dir))
    for batch in range(100):
        records = [
            {"type": "note", "writer": writer, "batch": batch, "pad": "x" * 5000} for _ in range(4)
        ]
        assert store.append(uri, session_id, [*records, turn_end(batch)])


def test_two_processes_appending_never_interleave(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_hammer, args=(str(state_dir), uri, session_id, n)) for n in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [worker.exitcode for worker in workers] == [0, 0]

    records = lines_of(store.session_path(uri, session_id))  # every line parses
    assert len(records) == 1 + 2 * 500
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.skipped == 0
    # The shared index lost no update: every turn record of both writers is counted.
    assert store.list(uri)[0].turns == 200


def test_fork_delete_and_list_order(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    original = store.create(uri, title="original")
    store.append(uri, original, [message(1, "user", "one"), turn_end(1)])
    store.append(uri, original, [message(2, "user", "two"), turn_end(2)])
    store.append(uri, original, [{"type": "note", "text": "after turn 2"}])

    fork = store.fork(uri, original, upto_turn=1)
    assert store.current(uri) == fork
    loaded = store.load(uri, fork)
    assert loaded is not None
    assert loaded.header["forkedFrom"] == {"session": original, "turn": 1}
    assert loaded.header["title"] == "original"
    assert [(r["type"], r["turn"]) for r in loaded.records] == [("message", 1), ("turn", 1)]
    full_fork = store.fork(uri, original)
    full = store.load(uri, full_fork)
    assert full is not None and len(full.records) == 5

    infos = store.list(uri)
    assert [info.id for info in infos] == [full_fork, fork, original]
    assert (infos[1].forked_from, infos[1].turns) == (original, 1)
    store.append(uri, original, [message(3, "user", "three")])
    assert store.list(uri)[0].id == original

    store.set_current(uri, fork)
    assert store.delete(uri, fork) is True
    assert store.delete(uri, fork) is False
    assert store.current(uri) is None
    assert [info.id for info in store.list(uri)] == [original, full_fork]
    with pytest.raises(SessionNotFoundError):
        store.fork(uri, fork)
    with pytest.raises(SessionNotFoundError):
        store.set_current(uri, fork)


def test_titles_are_first_line_trimmed_and_set_once(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    store.set_title(uri, session_id, "\n  " + "word " * 40 + "\nsecond line")
    store.set_title(uri, session_id, "a later prompt")
    title = store.list(uri)[0].title
    assert title == ("word " * 40)[:80].rstrip() and len(title) <= 80
    store.set_title(uri, session_id, "renamed", only_if_empty=False)
    assert store.list(uri)[0].title == "renamed"


def test_secrets_never_reach_the_disk(state_dir: Path, workspace: Path) -> None:
    configured_key = 'cfg-Key"with\\quote-93x7'
    register_secret(configured_key)
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri, title=f"use {configured_key}")
    tool_args = json.dumps({"command": "curl", "api_key": "plainvalue123"})
    store.append(
        uri,
        session_id,
        [
            message(1, "user", f"my key is {configured_key} and sk-abcdefghijklmnop"),
            {
                "type": "message",
                "turn": 1,
                "message": {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "run", "arguments": tool_args}}],
                },
            },
            {"type": "note", "headers": {"Authorization": "Bearer zzzzzzzzzzzz"}},
            {"type": "note", "config": {"password": "hunter2hunter2"}},
        ],
    )
    folder_dir = store.session_path(uri, session_id).parent.parent
    on_disk = b"".join(p.read_bytes() for p in folder_dir.rglob("*") if p.is_file())
    for secret in (
        configured_key,
        "sk-abcdefghijklmnop",
        "plainvalue123",
        "zzzzzzzzzzzz",
        "hunter2hunter2",
    ):
        assert secret.encode() not in on_disk
        assert json.dumps(secret)[1:-1].encode() not in on_disk  # nor its JSON-escaped form
    loaded = store.load(uri, session_id)
    assert loaded is not None and loaded.skipped == 0
    assert "[REDACTED]" in loaded.records[0]["message"]["content"]


def test_folder_renamed_mid_session_keeps_writing(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    workspace.rename(workspace.with_name("renamed"))
    assert store.append(uri, session_id, [message(1, "user", "still here")])
    loaded = store.load(uri, session_id)
    assert loaded is not None and len(loaded.records) == 1


def test_cleanup_without_state_dir_is_harmless(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "never-created")
    store.cleanup_temp_files()
    assert store.list("file:///nowhere") == []
    assert store.current("file:///nowhere") is None
    assert not (tmp_path / "never-created").exists()


def test_export_markdown_transcript(state_dir: Path, workspace: Path) -> None:
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri, title="Explain the parser")
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
    }
    big_output = "```\n" + "line of output\n" * 400
    store.append(
        uri,
        session_id,
        [
            message(1, "user", "What does a.py do?"),
            {
                "type": "message",
                "turn": 1,
                "message": {"role": "assistant", "content": "Reading.", "tool_calls": [call]},
            },
            {
                "type": "message",
                "turn": 1,
                "message": {"role": "tool", "tool_call_id": "c1", "content": big_output},
            },
            message(1, "assistant", "It parses things."),
            {
                "type": "turn",
                "turn": 1,
                "stopReason": "end_turn",
                "usage": {"prompt_tokens": 120, "completion_tokens": 30},
                "edits": [],
            },
            {"type": "compaction", "turn": 2, "summary": "User asked about a.py.", "replaced": 4},
            {"type": "proposal", "turn": 2, "data": "not rendered"},
        ],
    )
    loaded = store.load(uri, session_id)
    assert loaded is not None
    text = export_markdown(loaded)

    assert text.startswith("# Explain the parser\n")
    assert f"- Session: `{session_id}`" in text and f"- Folder: `{uri}`" in text
    assert "## Turn 1" in text and "**User**\n\nWhat does a.py do?" in text
    assert "Reading." in text and "It parses things." in text
    assert 'Tool call: `read_file`\n\n```json\n{\n  "path": "a.py"\n}\n```' in text
    assert "<details><summary>Result of <code>read_file</code></summary>" in text
    assert f"[truncated: 2000 of {len(big_output)} bytes]" in text
    assert "````\n```\nline of output" in text  # the fence outgrows backticks in the output
    assert "*Turn 1 ended: stop reason `end_turn`, 120 prompt + 30 completion tokens*" in text
    assert "> **Compaction** at turn 2: 4 earlier message(s) replaced by this summary" in text
    assert "not rendered" not in text


def test_index_is_rewritten_per_turn_not_per_step(state_dir: Path, workspace: Path) -> None:
    # issue 9: each step appends (and fsyncs) its record; index.json (listings only) is
    # replaced at the first record of a turn and at its end, not at every message.
    store = SessionStore(state_dir)
    uri = uri_of(workspace)
    session_id = store.create(uri)
    index = store.session_path(uri, session_id).parent.parent / "index.json"

    def still_the_same_file(held: BinaryIO) -> bool:
        # write_atomic renames a new file over the old; holding the old one open keeps its
        # inode from being reused.
        return os.fstat(held.fileno()).st_ino == index.stat().st_ino

    with index.open("rb") as before_turn:
        store.append(uri, session_id, [message(1, "user", "start")])
        assert not still_the_same_file(before_turn)
    with index.open("rb") as at_turn_start:
        for step in range(5):
            store.append(uri, session_id, [message(1, "assistant", f"step {step}")])
        assert still_the_same_file(at_turn_start)
        store.append(uri, session_id, [turn_end(1)])
        assert not still_the_same_file(at_turn_start)
    assert store.list(uri)[0].turns == 1
    with index.open("rb") as after_turn:
        store.append(uri, session_id, [message(2, "user", "next")])
        assert not still_the_same_file(after_turn)
    loaded = store.load(uri, session_id)
    assert loaded is not None and len(loaded.records) == 8
