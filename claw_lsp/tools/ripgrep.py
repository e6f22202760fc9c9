"""Running ripgrep for list_dir, glob and grep: the binary is ours (the `ripgrep` wheel next to
our interpreter, or a trusted PATH entry), never one the repository planted."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from claw_lsp.permissions.programs import inside_any, trusted_which
from claw_lsp.tools.base import ToolError

RG_TIMEOUT_S = 30.0


def rg_binary(untrusted_roots: Sequence[Path] = ()) -> str:
    """The rg shipped with the `ripgrep` wheel next to our interpreter, else one on PATH; never
    one from a relative PATH entry or inside a workspace folder (the repository's choice)."""
    beside = Path(sys.executable).parent / "rg"
    if beside.exists() and not inside_any(beside, untrusted_roots):
        return str(beside)
    found = trusted_which("rg", untrusted_roots=untrusted_roots)
    if not found:
        raise ToolError("ripgrep (rg) is not installed; reinstall claw-lsp")
    return found


async def run_rg(
    args: list[str], cwd: Path, stdin: bytes | None = None, roots: Sequence[Path] = ()
) -> tuple[int, bytes]:
    """rg's exit code and stdout. The output (megabytes for a common word) is read by a
    thread in one blocking read: through the event loop's pipe it cost 20% more time."""
    # Popen forks here as create_subprocess_exec would; only the reading moves to a thread.
    proc = subprocess.Popen(  # noqa: ASYNC220
        # A user's RIPGREP_CONFIG_PATH must not change what we parse or what we skip.
        [rg_binary(roots), "--no-config", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(RG_TIMEOUT_S):
            out = await asyncio.to_thread(_collect, proc, stdin)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()  # also ends the thread's read
        proc.wait()
        raise
    return proc.returncode or 0, out


def _collect(proc: subprocess.Popen[bytes], stdin: bytes | None) -> bytes:
    if stdin is not None:
        return proc.communicate(stdin)[0]  # writes and reads together: no pipe deadlock
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read()
    proc.wait()
    return out
