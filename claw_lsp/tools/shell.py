"""shell: one command in the workspace folder, inside the bubblewrap sandbox when available.

The sandbox for a command is planned per call (permissions/sandbox_plan.py): only the folders
whose tier allows writing are writable, and only when the command may write at all; protected
paths stay read-only there, missing protected names get placeholders that are removed after
the command. Every command, sandboxed or not, runs under a child subreaper (tools/reaper.py)
so that nothing it starts outlives it, at every point of its life: inside bwrap the sandbox's
PID namespace ends the tree too, but not while bwrap is still setting it up (a cancel then
kills the outer bwrap before the sandbox's first process has armed --die-with-parent, and
that process has already left the process group through --new-session; the reaper, its
nearest subreaper ancestor, inherits and kills it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from pydantic import Field

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.child_env import build_child_env
from claw_lsp.permissions.paths import PathDenied, ResolvedPath
from claw_lsp.permissions.programs import inside_any
from claw_lsp.permissions.sandbox import probe_sandbox, sandbox_argv, shell_path
from claw_lsp.permissions.sandbox_plan import (
    SandboxPlan,
    plan_sandbox,
    record_placeholders,
    remove_placeholders,
    sweep_ledgers,
)
from claw_lsp.permissions.shell_classify import ShellVerdict, classify
from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool
from claw_lsp.tools.process import ProcessResult, run_process

DEFAULT_TIMEOUT_S = 60
OUTPUT_CAP = 20_000
TIER_POLL_S = 0.1


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
    # arguments (PC-15): there is no cwd argument to set. The paths are where the command
    # writes, so the orchestrator applies the protected-path rule and the target folder's
    # tier to them exactly as for the write tools.
    targets = tuple(_resolved(ctx, path) for path in classify_for(args.command, ctx).write_targets)
    return Access(
        "shell",
        paths=tuple(t for t in targets if t is not None),
        command=args.command,
        cwd=ctx.root.real_path,
    )


def classify_for(command: str, ctx: ToolContext) -> ShellVerdict:
    """The shell check with the full protected-path rule (the user's own globs included)."""
    extra = ctx.settings().protected_paths
    guards: dict[Path, tuple[Path, ...]] = {}

    def protect(path: Path, root_path: Path) -> str | None:
        target = _resolved(ctx, path)
        if target is None:
            return None
        return ctx.workspace.protected_reason(target, extra, cache=guards)

    return classify(
        command,
        cwd=ctx.root.real_path,
        workspace_roots=[r.real_path for r in ctx.workspace.roots],
        protect=protect,
    )


def _resolved(ctx: ToolContext, path: Path) -> ResolvedPath | None:
    try:
        return ctx.workspace.resolve(str(path), base=ctx.root)
    except PathDenied:
        return None


async def run_shell(args: ShellArgs, ctx: ToolContext) -> ToolOutput:
    settings = ctx.settings()
    timeout = min(float(args.timeout_s), settings.shell_timeout_max)
    notes = await _unsaved_note(ctx)
    cwd = ctx.root.real_path
    roots = [r.real_path for r in ctx.workspace.roots]
    sandbox = probe_sandbox()
    sandboxed = sandbox.available and settings.tier != Tier.UNSAFE
    env = build_child_env(
        os.environ, passthrough=settings.env_passthrough, untrusted_roots=roots, sandboxed=sandboxed
    )
    plan: SandboxPlan | None = None
    if sandboxed:
        if sandbox.bwrap is None or inside_any(sandbox.bwrap, roots):
            raise ToolError("refusing to run: the bwrap found is inside a workspace folder")
        plan = await asyncio.to_thread(_plan, args.command, ctx, env["PATH"])
        argv = sandbox_argv(args.command, bwrap=sandbox.bwrap, cwd=cwd, plan=plan)
    else:
        argv = [shell_path(), "-c", args.command]
    created = plan.missing_placeholders() if plan is not None else []
    ledger = record_placeholders(settings.state_dir, created)
    try:
        run = asyncio.ensure_future(
            run_process(
                argv,
                cwd=cwd,
                env=env,
                timeout_s=timeout,
                output_cap=OUTPUT_CAP,
                subreaper=True,  # also sandboxed: bwrap's set-up has no other guard
            )
        )
        lowered = await _stop_if_tier_lowered(run, ctx, settings.tier)
    finally:
        remove_placeholders(created, ledger)
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
    where = _where(plan, created)
    header = f"[{status}; {where}; {result.duration_s:.1f} s]"
    body = result.output if result.output else "(no output)"
    content = "\n".join([*notes, header, body])
    ok = result.exit_code == 0 and not result.timed_out
    return ToolOutput(content, f"$ {args.command[:80]} -> {status}", ok=ok)


def _plan(command: str, ctx: ToolContext, path_value: str) -> SandboxPlan:
    """Writable: the folders whose tier allows writing, when the turn's tier does and the
    command may write at all; everything else read-only (tier by target)."""
    settings = ctx.settings()
    sweep_ledgers(settings.state_dir)
    may_write = settings.tier.allows(Tier.WRITE) and classify_for(command, ctx).writes
    writable: list[Path] = []
    read_only: list[Path] = []
    for root in ctx.workspace.roots:
        allowed = may_write and ctx.folder_tier(root).allows(Tier.WRITE)
        (writable if allowed else read_only).append(root.real_path)
    return plan_sandbox(
        writable=writable,
        read_only=read_only,
        hidden_dirs=[*ctx.workspace.protected_real_dirs, settings.state_dir],
        path_value=path_value,
        network=settings.network,
    )


def _where(plan: SandboxPlan | None, placeholders: list[Path]) -> str:
    if plan is None:
        return "NOT sandboxed"
    if not plan.writable:
        return "sandboxed; workspace read-only"
    if placeholders:
        return "sandboxed; protected names that do not exist show as empty read-only placeholders"
    return "sandboxed"


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
