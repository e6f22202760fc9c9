"""RE rows: every read, search, command and turn is bounded."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from claw_lsp.tools.base import MAX_RESULT_CHARS
from claw_lsp.tools.orchestrator import MAX_TOOL_CALLS_PER_TURN, REPEAT_LIMIT
from tests.security.conftest import Harness
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def max_rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


async def test_re01_a_2gb_file_is_streamed_never_loaded(harness: Harness, ws: Path) -> None:
    big = ws / "huge.log"
    with big.open("w") as fh:
        for n in range(3000):
            fh.write(f"log line {n}\n")
    os.truncate(big, 2 * 1024**3)  # sparse: 2 GB on paper, nothing on disk
    before = max_rss_kib()
    result = await harness.call("read_file", {"path": "huge.log"})
    assert result.ok and "log line 0" in result.content and "log line 1999" in result.content
    assert "log line 2000" not in result.content and "offset" in result.content
    later = await harness.call("read_file", {"path": "huge.log", "offset": 2990, "limit": 5})
    assert "log line 2989" in later.content and "log line 2994" not in later.content
    assert max_rss_kib() - before < 500 * 1024  # nowhere near 2 GB was held


async def test_re01_one_enormous_line_and_special_files(harness: Harness, ws: Path) -> None:
    (ws / "min.js").write_bytes(b"a" * (50 * 1024 * 1024))
    result = await harness.call("read_file", {"path": "min.js"})
    assert result.ok and len(result.content) < 10_000 and "cut at 2000" in result.content
    os.mkfifo(ws / "pipe")
    fifo = await harness.call("read_file", {"path": "pipe"})
    assert not fifo.ok and "not a regular file" in fifo.content
    (ws / "zero").symlink_to("/dev/zero")
    zero = await harness.call("read_file", {"path": "zero"})
    assert not zero.ok and "outside" in zero.content


async def test_re02_binary_files_are_described_not_decoded(harness: Harness, ws: Path) -> None:
    (ws / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (ws / "lib.so").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(300) + b"needle")
    (ws / "mod.pyc").write_bytes(b"\xa7\r\r\n\x00\x00\x00\x00" + b"needle" + bytes(50))
    with sqlite3.connect(ws / "data.db") as db:
        db.execute("create table t (x text)")
        db.execute("insert into t values ('needle')")
    for name in ("img.png", "lib.so", "mod.pyc", "data.db"):
        result = await harness.call("read_file", {"path": name})
        assert not result.ok and "binary" in result.content.lower(), name
        assert "\ufffd" not in result.content
    grep = await harness.call("grep", {"pattern": "needle"})
    assert "(no matches)" in grep.content


async def test_re03_grep_is_capped_and_skips_vendored_and_vcs(harness: Harness, ws: Path) -> None:
    (ws / "node_modules" / "pkg").mkdir(parents=True)
    (ws / "node_modules" / "pkg" / "index.js").write_text("match_me\n" * 50)
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("match_me\n")
    (ws / "ignored").mkdir()
    (ws / ".gitignore").write_text("ignored/\n")
    (ws / "ignored" / "x.txt").write_text("match_me\n")
    (ws / "many.txt").write_text("match_me line\n" * 400)
    (ws / "wide.txt").write_text("match_me" + "w" * 1_000_000 + "\n")
    result = await harness.call("grep", {"pattern": "match_me"})
    lines = result.content.splitlines()
    assert len([line for line in lines if ":" in line and "match_me" in line]) == 100
    assert "401 matches in all" in result.content
    assert "node_modules" not in result.content and ".git/" not in result.content
    assert "ignored/" not in result.content
    assert all(len(line) < 1000 for line in lines)
    assert len(result.content) <= MAX_RESULT_CHARS + 500


@pytest.mark.usefixtures("no_orphans")
@pytest.mark.parametrize("command", ["yes", "cat /dev/urandom | base64", "yes | tr -d '\\n'"])
async def test_re05_endless_output_is_capped_and_the_group_killed(
    harness: Harness, command: str
) -> None:
    harness.set(tier=Tier.SHELL, shell_timeout_max=2.0)
    result = await harness.call("shell", {"command": command}, "once", "once")
    assert "timed out after 2 s (process group killed)" in result.content
    assert "bytes omitted" in result.content
    assert len(result.content) <= MAX_RESULT_CHARS + 500


@pytest.mark.usefixtures("no_orphans")
async def test_re07_interactive_commands_fail_fast(harness: Harness, ws: Path) -> None:
    harness.set(tier=Tier.SHELL)
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "new.txt").write_text("x\n")
    for command in (
        "python3",
        "git add new.txt && git -c user.name=a -c user.email=a@b commit",
        "ssh -o ConnectTimeout=3 host",
        "sudo ls",
        "read x",
        "cat",
    ):
        result = await harness.call("shell", {"command": command, "timeout_s": 60}, "once")
        assert "timed out" not in result.content, command


@pytest.mark.usefixtures("no_orphans")
async def test_re08_memory_limits_contain_a_huge_allocation(harness: Harness) -> None:
    harness.set(tier=Tier.SHELL)
    result = await harness.call("shell", {"command": "python3 -c 'a=\"x\"*10**11'"}, "once")
    assert "MemoryError" in result.content and not result.ok


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores RLIMIT_NPROC: no fork bomb as root")
@pytest.mark.usefixtures("no_orphans")
async def test_re08_a_fork_bomb_is_contained(harness: Harness) -> None:
    harness.set(tier=Tier.SHELL, shell_timeout_max=5.0)
    result = await harness.call("shell", {"command": ":(){ :|:& };:"}, "once")
    assert not result.ok


async def test_re09_identical_calls_and_call_volume_stop_the_turn(harness: Harness) -> None:
    results = [await harness.call("read_file", {"path": "app.py"}) for _ in range(REPEAT_LIMIT)]
    assert all(r.ok and not r.stop_turn for r in results)
    stopped = await harness.call("read_file", {"path": "app.py"})
    assert stopped.stop_turn and "identical arguments" in stopped.content
    for n in range(MAX_TOOL_CALLS_PER_TURN):
        last = await harness.call("list_dir", {"path": "." if n % 2 else "./"})
        if last.stop_turn:
            break
    assert last.stop_turn


async def test_re09_the_stop_reason_reaches_the_user(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    same = {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]}
    model.add(*[same] * 10, {"text": "never reached"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        result = await claw.ask("loop")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "maxTurns" and "repeating" in result["text"]
    assert len(model.chat_requests()) == REPEAT_LIMIT + 1


@pytest.mark.usefixtures("no_orphans")
async def test_re10_tool_results_keep_head_and_tail(harness: Harness) -> None:
    harness.set(tier=Tier.SHELL)
    result = await harness.call("shell", {"command": "seq 1 200000"}, "once")
    assert len(result.content) <= MAX_RESULT_CHARS + 500
    assert "\n1\n" in result.content and "200000" in result.content and "omitted" in result.content


async def test_re12_re13_queued_prompts_are_bounded_and_streaming_is_coalesced(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    model.add({"text": "x" * 3000, "chunks": 3000, "delay": 2})
    model.add(*[{"text": "ok"}] * 25)
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        first = asyncio.ensure_future(claw.ask("long"))
        while not model.chat_requests():
            await asyncio.sleep(0.05)
        prompts = [claw.ask(f"p{n}") for n in range(20)]
        extra = await asyncio.gather(*prompts, return_exceptions=True)
        done = await first
    finally:
        await claw.client.shutdown_session()
    assert done["text"] == "x" * 3000
    refused = [e for e in extra if isinstance(e, Exception)]
    assert refused and all("busy" in str(e).lower() or "queue" in str(e).lower() for e in refused)
    assert len(refused) >= 20 - 4
    text_events = [e for e in claw.recorder.events if e["kind"] == "text"]
    assert 0 < len(text_events) < 1500  # 3000 deltas were merged, not forwarded one by one


async def test_re14_huge_edits_are_refused_with_a_clear_error(harness: Harness, ws: Path) -> None:
    result = await harness.call("write_file", {"path": "big.txt", "content": "y" * 20_000_000})
    assert not result.ok and ("exceed" in result.content or "Split the change" in result.content)
    assert not (ws / "big.txt").exists()
