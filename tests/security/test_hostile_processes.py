"""Issue 13, rule 7: a shell command's whole process tree ends with the command.

Background jobs, setsid, nohup and double forks are killed when the command ends or times
out, and the turn never waits on a pipe a leftover holds: by the child subreaper
(tools/reaper.py) every command runs under, and inside bwrap by the sandbox's PID namespace too
(cancels during the sandbox's set-up: test_sandbox_startup_cancel.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from tests.security.conftest import SANDBOX, Harness, agent_processes
from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

pytestmark = pytest.mark.usefixtures("no_orphans")

# Each leaves something running after the command itself has finished.
LEFTOVERS = [
    "sleep 600 &",
    "nohup sleep 600 &",
    "nohup sleep 600 > /dev/null 2>&1 &",
    "setsid sleep 600 &",
    "(setsid sleep 600 &)",
    "( (sleep 600 &) & )",
    "sleep 600 & disown",
    "setsid -f sleep 600",
    "setsid nohup sh -c 'sleep 600' > /dev/null 2>&1 < /dev/null &",
    "sh -c 'sleep 600 & exec true'",
    "exec 3>&1; (sleep 600 >&3 &)",
    "/usr/bin/python3 -c 'import os,time; os.fork() or (os.setsid(), os.fork() or"
    " time.sleep(600))'",
]
# These run as long as their foreground part does: the timeout ends them, tree and all.
LONG = ["setsid sleep 600", "sleep 600 & wait", "nohup sleep 600", "yes > /dev/null"]
MODES = ["sandboxed", "unsandboxed"] if SANDBOX.available else ["unsandboxed"]


def harness_for(mode: str, ws: Path, tmp_path: Path) -> Harness:
    tier = Tier.SHELL if mode == "sandboxed" else Tier.UNSAFE
    return Harness([ws], state_dir=tmp_path / "state", tier=tier)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", LEFTOVERS)
async def test_rule7_leftovers_die_with_the_command_and_never_hold_the_turn(
    command: str, mode: str, ws: Path, tmp_path: Path
) -> None:
    harness = harness_for(mode, ws, tmp_path)
    result = await asyncio.wait_for(
        harness.call("shell", {"command": command, "timeout_s": 30}, "once"), 300
    )
    assert "timed out" not in result.content, result.content  # nobody waited on the pipe
    assert ("NOT sandboxed" in result.content) == (mode == "unsandboxed")
    assert not agent_processes(tmp_path), "a leftover is still running"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", LONG)
async def test_rule7_a_timeout_ends_the_whole_tree(
    command: str, mode: str, ws: Path, tmp_path: Path
) -> None:
    harness = harness_for(mode, ws, tmp_path)
    result = await harness.call("shell", {"command": command, "timeout_s": 2}, "once")
    assert "timed out after 2 s" in result.content, result.content


async def test_rule7_the_subreaper_cleans_up_when_the_server_dies(tmp_path: Path) -> None:
    """Without bwrap a killed server must not leave the command's tree behind either."""
    script = tmp_path / "server.py"
    script.write_text(
        "import asyncio, os, sys\n"
        "from pathlib import Path\n"
        "from claw_lsp.tools.process import run_process\n"
        "from claw_lsp.permissions.child_env import build_child_env\n"
        "async def main():\n"
        "    await run_process(['/bin/bash', '-c', 'setsid sleep 600 & sleep 600'],\n"
        "        cwd=Path(sys.argv[1]), env=build_child_env(os.environ), timeout_s=600,\n"
        "        subreaper=True)\n"
        "asyncio.run(main())\n"
    )
    server = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    try:
        for _ in range(200):
            if len(agent_processes(tmp_path)) >= 3:  # reaper, bash, the setsid sleep
                break
            await asyncio.sleep(0.05)
        assert len(agent_processes(tmp_path)) >= 3
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 10
    while agent_processes(tmp_path) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not agent_processes(tmp_path)


async def test_rule7_background_jobs_never_hang_a_turn_through_the_server(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    commands = ["sleep 600 &", "setsid sleep 600 &", "nohup sleep 600 &", "(setsid sleep 600 &)"]
    model.add(*(call("shell", command=c, timeout_s=20) for c in commands), {"text": "done"})
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "shell"}
    )
    claw.recorder.approval_answers += ["Allow once"] * len(commands)
    try:
        result = await asyncio.wait_for(claw.ask("start the daemons"), 300)
    finally:
        await claw.client.shutdown_session()
    assert result["text"] == "done"
    results = tool_results(model)
    assert len(results) == len(commands)
    assert all("exit code 0" in r and "timed out" not in r for r in results), results
    assert not agent_processes(workspace.parent)


def test_rule7_the_reaper_reports_the_commands_own_status(tmp_path: Path) -> None:
    from claw_lsp.tools.process import REAPER

    for script, expected in (("exit 3", 3), ("kill -TERM $$", -signal.SIGTERM), ("true", 0)):
        completed = subprocess.run(
            [sys.executable, "-I", "-S", str(REAPER), "/bin/sh", "-c", script],
            cwd=tmp_path,
            env={**os.environ, "CLAW_LSP_REAPER_PARENT": str(os.getpid())},
            check=False,
        )
        assert completed.returncode == expected, script
