"""shell: one command in the workspace folder, inside the bubblewrap sandbox when available."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from pydantic import Field

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.child_env import build_child_env
from claw_lsp.permissions.paths import claw_config_dir
from claw_lsp.permissions.sandbox import probe_sandbox, sandbox_argv
from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool
from claw_lsp.tools.process import ProcessResult, run_process

DEFAULT_TIMEOUT_S = 60
OUTPUT_CAP = 20_000
TIER_POLL_S = 0.1
HIDDEN_HOME_ENTRIES = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
)
READ_ONLY_IN_SANDBOX = (
    ".git",
    ".vscode",
    ".idea",
    ".claw",
    ".claude",
    ".envrc",
    ".github/workflows",
    ".husky",
)


class ShellArgs(ToolArgs):
    command: str = Field(description="A bash command line, run in the workspace folder")
    timeout_s: int = Field(
        default=DEFAULT_TIMEOUT_S, ge=1, description="Seconds before it is killed"
    )


def plan_shell(args: ShellArgs, ctx: ToolContext) -> Access:
    if not args.command.strip():
        raise ToolError("command is empty")
    if len(args.command) > 20_000:
        raise ToolError("command is longer than 20000 characters")
    if ctx.root not in ctx.workspace.roots:
        raise ToolError(f"workspace folder {ctx.root.name} is no longer open")
    # The cwd and the writable roots come from the server's folder list, never from
    # arguments (PC-15): there is no cwd argument to set.
    return Access("shell", command=args.command, cwd=ctx.root.real_path)


async def run_shell(args: ShellArgs, ctx: ToolContext) -> ToolOutput:
    settings = ctx.settings()
    timeout = min(float(args.timeout_s), settings.shell_timeout_max)
    notes = await _unsaved_note(ctx)
    cwd = ctx.root.real_path
    sandbox = probe_sandbox()
    sandboxed = sandbox.available and settings.tier != Tier.UNSAFE
    if sandboxed:
        home = Path.home()
        roots = [r.real_path for r in ctx.workspace.roots]
        argv = sandbox_argv(
            args.command,
            bwrap=sandbox.bwrap or "bwrap",
            cwd=cwd,
            writable_roots=roots,
            read_only_paths=[root / rel for root in roots for rel in READ_ONLY_IN_SANDBOX]
            + [claw_config_dir()],
            hidden_paths=[home / rel for rel in HIDDEN_HOME_ENTRIES]
            + list(ctx.workspace.protected_real_dirs),
            network=settings.network,
        )
    else:
        argv = ["/bin/bash", "-c", args.command]
    env = build_child_env(os.environ, passthrough=settings.env_passthrough)
    run = asyncio.ensure_future(
        run_process(argv, cwd=cwd, env=env, timeout_s=timeout, output_cap=OUTPUT_CAP)
    )
    lowered = await _stop_if_tier_lowered(run, ctx, settings.tier)
    if lowered is not None:
        return ToolOutput(
            f"[stopped: the user lowered the tier to {lowered.value} while the command "
            "ran; its process group was killed]",
            f"$ {args.command[:80]} -> stopped (tier lowered)",
            ok=False,
        )
    result = run.result()
    status = (
        f"timed out after {timeout:.0f} s (process group killed)"
        if result.timed_out
        else f"exit code {result.exit_code}"
    )
    where = "sandboxed" if sandboxed else "NOT sandboxed"
    header = f"[{status}; {where}; {result.duration_s:.1f} s]"
    body = result.output if result.output else "(no output)"
    content = "\n".join([*notes, header, body])
    ok = result.exit_code == 0 and not result.timed_out
    return ToolOutput(content, f"$ {args.command[:80]} -> {status}", ok=ok)


async def _stop_if_tier_lowered(
    run: asyncio.Future[ProcessResult], ctx: ToolContext, started_at: Tier
) -> Tier | None:
    """Waits for `run`; if the user lowers the tier meanwhile (PT-08), cancels it, which kills
    the process group, and returns the new tier. Permission is never cached from the start."""
    try:
        while not run.done():
            await asyncio.wait({run}, timeout=TIER_POLL_S)
            current = ctx.settings().tier
            if not run.done() and current.rank < started_at.rank:
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
                return current
    except asyncio.CancelledError:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
        raise
    return None


async def _unsaved_note(ctx: ToolContext) -> list[str]:
    """A command reads the disk, not the editor: say so when agent-edited buffers are unsaved."""
    unsaved = ctx.editor.unsaved_paths()
    if not unsaved:
        return []
    saved = await ctx.editor.save_documents(unsaved)
    remaining = [p for p in unsaved if p not in saved]
    if not remaining:
        return [f"[saved {len(saved)} edited file(s) before running]"]
    uris = [p.as_uri() for p in remaining]
    ctx.events.emit("unsaved", {"uris": uris})
    names = ", ".join(p.name for p in remaining[:10])
    return [f"[warning: unsaved editor changes in {names}; the command sees the files on disk]"]


SHELL = define_tool(
    "shell",
    "Run a bash command in the workspace folder (no stdin; output capped). "
    "Prefer the file tools for reading and editing.",
    ShellArgs,
    "shell",
    plan_shell,
    run_shell,
)
