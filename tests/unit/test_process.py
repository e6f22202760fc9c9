"""Process runner (RE-05, RE-07, RE-08, LP-10/11, SE-01): bounded output, deadlines, no orphans."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from claw_lsp.permissions.child_env import build_child_env
from claw_lsp.permissions.sandbox import probe_sandbox, sandbox_argv
from claw_lsp.permissions.sandbox_plan import SandboxPlan
from claw_lsp.tools.process import ProcessResult, run_process

ENV = build_child_env(os.environ)


async def sh(command: str, cwd: Path, timeout_s: float = 30, **kwargs: object) -> ProcessResult:
    return await run_process(["sh", "-c", command], cwd=cwd, env=ENV, timeout_s=timeout_s, **kwargs)


def live_pids_in_group(group: int) -> list[str]:
    """Non-zombie members of a process group, asked of ps rather than of the code under test."""
    listing = subprocess.run(
        ["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True, check=True
    ).stdout
    return [
        pid
        for pid, pgid, stat in (line.split(None, 2) for line in listing.splitlines())
        if pgid == str(group) and not stat.startswith("Z")
    ]


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


async def test_exit_codes_and_output(tmp_path: Path) -> None:
    ok = await sh("echo hello; echo oops >&2", tmp_path)
    assert ok.exit_code == 0 and not ok.timed_out and not ok.truncated
    assert ok.output == "hello\noops\n"
    assert ok.total_bytes == len(ok.output)
    assert (await sh("exit 3", tmp_path)).exit_code == 3
    assert (await sh("kill -9 $$", tmp_path)).exit_code == -9


async def test_runs_in_cwd_with_the_given_env(tmp_path: Path) -> None:
    result = await run_process(
        ["sh", "-c", 'pwd; echo "$ONLY"'], cwd=tmp_path, env={"ONLY": "this"}, timeout_s=30
    )
    assert result.output == f"{tmp_path}\nthis\n"


async def test_re07_stdin_is_dev_null(tmp_path: Path) -> None:
    result = await sh("read x; echo read=$?; cat; echo cat=$?", tmp_path)
    assert not result.timed_out
    assert result.output == "read=1\ncat=0\n"


async def test_re05_yes_is_capped_and_killed(tmp_path: Path) -> None:
    result = await sh("echo $$; exec yes", tmp_path, timeout_s=1, output_cap=2_000)
    assert result.timed_out and result.exit_code is None
    assert result.truncated
    assert "bytes omitted ...]" in result.output
    assert len(result.output) < 2_100
    assert result.total_bytes > 2_000
    group = int(result.output.split()[0])
    assert live_pids_in_group(group) == []


async def test_re05_output_without_newlines_still_times_out(tmp_path: Path) -> None:
    result = await sh("yes | tr -d '\\n'", tmp_path, timeout_s=1, output_cap=1_000)
    assert result.timed_out and result.truncated
    assert result.output.startswith("y" * 500)
    assert result.output.endswith("y" * 500)


async def test_sleep_times_out_and_the_group_is_gone(tmp_path: Path) -> None:
    result = await sh("echo $$; sleep 30 & sleep 30", tmp_path, timeout_s=1)
    assert result.timed_out and result.exit_code is None
    group = int(result.output.split()[0])
    assert live_pids_in_group(group) == []


async def test_cap_keeps_head_and_tail_with_a_marker(tmp_path: Path) -> None:
    result = await sh(
        "printf 'HEAD'; head -c 100000 /dev/zero | tr '\\0' a; printf 'TAIL'",
        tmp_path,
        output_cap=1_000,
    )
    assert result.exit_code == 0 and result.truncated
    assert result.total_bytes == 100_008
    assert result.output.startswith("HEAD" + "a" * 496)
    assert result.output.endswith("a" * 496 + "TAIL")
    assert "[... 99008 bytes omitted ...]" in result.output


async def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    result = await sh("printf 'ok \\377\\376'", tmp_path)
    assert result.output.startswith("ok ")
    assert "\ufffd" in result.output


async def test_leftover_background_processes_are_killed(tmp_path: Path) -> None:
    result = await sh("sleep 30 >/dev/null 2>&1 & echo $!", tmp_path)
    assert not result.timed_out and result.exit_code == 0
    assert not pid_alive(int(result.output.strip()))


async def test_background_child_holding_the_pipe_does_not_hide_the_exit(tmp_path: Path) -> None:
    result = await sh("sleep 30 & echo started", tmp_path)
    assert not result.timed_out
    assert result.exit_code == 0
    assert result.output == "started\n"


async def test_cancellation_kills_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    task = asyncio.create_task(
        sh(f"sleep 30 & echo $$ $! > {pids}.tmp && mv {pids}.tmp {pids}; sleep 30", tmp_path)
    )
    while not pids.exists():
        assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    group, background = (int(p) for p in pids.read_text().split())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_pids_in_group(group) == []
    assert not pid_alive(background)


async def test_rlimits_are_applied_only_when_asked(tmp_path: Path) -> None:
    limited = await run_process(
        ["bash", "-c", "ulimit -c; ulimit -f; ulimit -v"], cwd=tmp_path, env=ENV, timeout_s=30
    )
    assert limited.output.split() == ["0", str(1 << 20), str(4 << 20)]
    free = await run_process(
        ["bash", "-c", "ulimit -v"], cwd=tmp_path, env=ENV, timeout_s=30, rlimits=False
    )
    assert free.output.strip() == "unlimited"


async def test_re08_memory_limit_contains_a_huge_allocation(tmp_path: Path) -> None:
    result = await run_process(
        ["python3", "-c", "a = 'x' * 10**11"], cwd=tmp_path, env=ENV, timeout_s=60
    )
    assert result.exit_code not in (0, None)
    assert "MemoryError" in result.output


async def test_se01_secrets_do_not_reach_the_child(tmp_path: Path) -> None:
    host = {
        "PATH": os.environ["PATH"],
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OPENAI_API_KEY": "sk-live-1",
        "CLAW_API_KEY": "claw-2",
        "AWS_SECRET_ACCESS_KEY": "aws-3",
        "GITHUB_TOKEN": "ghp-4",
        "MY_PASSWORD": "pw-5",
        "DB_CREDENTIALS": "cred-6",
        "SSH_AUTH_SOCK": "/run/agent.sock",
        "GIT_ASKPASS": "/bin/askpass",
        "LD_PRELOAD": "/evil.so",
        "CORP_URL": "https://internal",
        "SHOW_ME": "yes",
    }
    env = build_child_env(
        host,
        passthrough=["SHOW_ME", "OPENAI_API_KEY", "SSH_AUTH_SOCK", "CORP_*"],
        extra_deny_patterns=["corp_*"],
    )
    result = await run_process(["env"], cwd=tmp_path, env=env, timeout_s=30)
    for secret in ("sk-live-1", "claw-2", "aws-3", "ghp-4", "pw-5", "cred-6", "/evil.so"):
        assert secret not in result.output
    for dropped in ("SSH_AUTH_SOCK", "GIT_ASKPASS", "CORP_URL"):
        assert f"{dropped}=" not in result.output
    assert "SHOW_ME=yes" in result.output
    assert "LC_ALL=C.UTF-8" in result.output
    assert "HOME=/home/u" in result.output
    for forced in ("GIT_TERMINAL_PROMPT=0", "GIT_EDITOR=true", "PAGER=cat", "CLAW_LSP_AGENT=1"):
        assert forced in result.output


async def test_git_cannot_prompt_or_open_an_editor(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = await run_process(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--allow-empty"],
        cwd=tmp_path,
        env=ENV,
        timeout_s=30,
    )
    assert not result.timed_out
    assert result.exit_code != 0  # GIT_EDITOR=true leaves an empty message: aborted


@pytest.mark.sandbox
@pytest.mark.skipif(not probe_sandbox().available, reason="sandbox unavailable here")
async def test_sandboxed_command_through_the_runner(tmp_path: Path) -> None:
    bwrap = probe_sandbox().bwrap
    assert bwrap is not None
    argv = sandbox_argv(
        "echo $$; touch inside && touch /etc/claw_probe; sleep 30",
        bwrap=bwrap,
        cwd=tmp_path,
        plan=SandboxPlan(writable=[tmp_path]),
    )
    result = await run_process(argv, cwd=tmp_path, env=ENV, timeout_s=2)
    assert result.timed_out
    assert (tmp_path / "inside").exists()
    assert not Path("/etc/claw_probe").exists()
    assert "Read-only file system" in result.output
    # PID 1 inside is bwrap's init, so the shell's pid is small: proof of a PID namespace
    assert int(result.output.split()[0]) < 10
