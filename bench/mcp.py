"""MCP benchmarks (issue 17). Reports numbers; nothing here fails on a timing.

1. Start-up, measured apart: the fixture server's start as claw saw it (spawn, handshake, every
   listing: claw.mcpServers startSeconds), and the first turn's wall time with the server
   configured against the same turn without it (the SDK import is in the first).
2. A turn that uses no MCP tool, after the first start: turns of read_file steps in a claw with
   the fixture running and in a claw without MCP, interleaved; median per-turn wall time and the
   ratio; plus the characters the MCP tools add to the request prefix.
3. A call's overhead over the fixture's own time: `slow(0.02)` calls through claw (the
   toolCall -> toolResult events an editor sees) and through the SDK directly, minus the
   fixture's own handler time (its record: call -> done).

    .venv/bin/python -m bench.mcp [--rounds 5] [--calls 20] [--out bench/mcp_results.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import REPO, read_call, running_claw, scripted_model, small_workspace
from tests.support.mcp import recorded, stdio_entry

STEPS = 10


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fixture(record: Path) -> dict[str, Any]:
    return {"fx": stdio_entry(record)}


async def _timed_turn(claw: Any, prompt: str) -> float:
    started = time.perf_counter()
    await claw.command("claw.ask", {"prompt": prompt})
    return time.perf_counter() - started


async def startup(root: Path, workspace: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, options in (("without", {}), ("with", {"mcpServers": _fixture(root / "s.jsonl")})):
        async with scripted_model() as model:
            model.add({"text": "hi"})
            state = _dir(root / f"startup-{label}")
            async with running_claw(model, workspace, state, init_options=options) as claw:
                out[f"first_turn_{label}_s"] = await _timed_turn(claw, "hello")
                if options:
                    status = await claw.command("claw.mcpServers", {})
                    out["server_start_s"] = status["servers"][0]["startSeconds"]
                    out["protocol"] = status["servers"][0]["protocolVersion"]
    return out


async def idle_turns(root: Path, workspace: Path, rounds: int) -> dict[str, Any]:
    """Per-turn wall time with the fixture running (never called), the same with its schemas
    deferred (mcpSchemaBudget 0: only the small mcp_tools tool in the prefix), and without MCP
    (twice: the control says how much two identical server processes differ here)."""
    arms: dict[str, dict[str, Any]] = {
        "with": {"mcpServers": _fixture(root / "idle.jsonl")},
        "deferred": {"mcpServers": _fixture(root / "idle.jsonl"), "mcpSchemaBudget": 0},
        "without": {},
        "control": {},  # a second claw without MCP: how much two identical servers differ
    }
    times: dict[str, list[float]] = {label: [] for label in arms}
    prefix: dict[str, int] = {}
    async with AsyncExitStack() as stack:
        running = []
        for label, options in arms.items():
            model = await stack.enter_async_context(scripted_model())
            state = _dir(root / f"idle-{label}")
            claw = await stack.enter_async_context(
                running_claw(model, workspace, state, init_options=options)
            )
            model.add({"text": "warm"})
            await _timed_turn(claw, "warm up")  # the MCP server starts here
            running.append((label, model, claw))
        for round_ in range(rounds):
            # Rotate who goes first: a busy machine then hurts every arm alike.
            shift = round_ % len(running)
            for label, model, claw in running[shift:] + running[:shift]:
                model.add(*(read_call(f"mod_{n:02d}.py") for n in range(STEPS)))
                model.add({"text": "read them"})
                times[label].append(await _timed_turn(claw, f"read round {round_}"))
        for label, model, _ in running:
            tools = model.chat_requests()[-1]["tools"]
            prefix[label] = len(json.dumps(tools, separators=(",", ":")))
    median = {label: statistics.median(values) for label, values in times.items()}
    return {
        "turn_s": median,
        "ratio": median["with"] / median["without"],
        "ratio_deferred": median["deferred"] / median["without"],
        "ratio_control": median["control"] / median["without"],
        "steps": STEPS + 1,
        "tools_chars": prefix,
        "mcp_calls_during_idle_turns": len(recorded(root / "idle.jsonl")),
    }


async def call_overhead(root: Path, workspace: Path, calls: int) -> dict[str, Any]:
    record = root / "calls.jsonl"
    seen: dict[str, dict[str, float]] = {}

    def on_notification(method: str, params: Any) -> None:
        if method == "claw/event" and params.get("kind") in ("toolCall", "toolResult"):
            seen.setdefault(params["id"], {})[params["kind"]] = time.perf_counter()

    options: dict[str, Any] = {
        "mcpServers": _fixture(record),
        "permissions": {"allow": ["mcp__fx__slow"]},
        "maxTurns": calls + 5,
    }
    async with scripted_model() as model:
        model.add({"text": "warm"})
        state = _dir(root / "calls-state")
        async with running_claw(model, workspace, state, init_options=options) as claw:
            claw.on_notification = on_notification
            await _timed_turn(claw, "warm up")
            for n in range(calls):
                model.add(
                    {
                        "tool_calls": [
                            {"name": "mcp__fx__slow", "arguments": {"seconds": 0.02 + n * 1e-4}}
                        ]
                    }
                )
            model.add({"text": "done"})
            await _timed_turn(claw, "call slow")
    through_claw = [v["toolResult"] - v["toolCall"] for v in seen.values() if len(v) == 2]
    own = _handler_times(record)
    direct = await _direct_sdk_calls(root / "direct.jsonl", calls)
    own_direct = _handler_times(root / "direct.jsonl")
    return {
        "calls": len(through_claw),
        "claw_call_s": statistics.median(through_claw),
        "fixture_handler_s": statistics.median(own),
        "claw_overhead_s": statistics.median(through_claw) - statistics.median(own),
        "sdk_call_s": statistics.median(direct),
        "sdk_overhead_s": statistics.median(direct) - statistics.median(own_direct),
    }


def _handler_times(record: Path) -> list[float]:
    started = [e["t"] for e in recorded(record, "call") if e.get("tool") == "slow"]
    done = [e["t"] for e in recorded(record, "done")]
    return [b - a for a, b in zip(started, done, strict=False)]


async def _direct_sdk_calls(record: Path, calls: int) -> list[float]:
    """The same calls through claw's connection class alone: the SDK's own cost."""
    from claw_lsp.config.mcp_servers import parse_mcp_servers
    from claw_lsp.mcp.connection import McpConnection
    from claw_lsp.mcp.launch import resolve_launch

    (spec,) = parse_mcp_servers({"fx": stdio_entry(record)}, origin="user")
    connection = McpConnection(resolve_launch(spec, base_dir=REPO), timeout=60)
    await connection.start()
    out = []
    try:
        for n in range(calls):
            arguments = {"seconds": 0.02 + n * 1e-4}
            started = time.perf_counter()
            await connection.request(partial(_call_slow, arguments=arguments))
            out.append(time.perf_counter() - started)
    finally:
        await connection.stop()
    return out


async def _call_slow(client: Any, arguments: dict[str, Any]) -> Any:
    return await client.call_tool("slow", arguments)


def render(start: dict[str, Any], idle: dict[str, Any], call: dict[str, Any]) -> str:
    ms = 1000.0
    return "\n".join(
        [
            "# MCP benchmark",
            "",
            f"Machine: {sys.platform}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.1f} at the end; medians. The control row shows "
            "how far two identical servers differ on this machine.",
            "",
            "| What | Number |",
            "|---|---|",
            f"| Fixture server start as claw saw it (spawn, {start['protocol']} handshake, "
            f"listings) | {start['server_start_s'] * ms:.0f} ms |",
            f"| First turn without MCP | {start['first_turn_without_s'] * ms:.0f} ms |",
            f"| First turn with the server configured (SDK import + start) | "
            f"{start['first_turn_with_s'] * ms:.0f} ms |",
            f"| Turn of {idle['steps']} model calls, no MCP tool used, server running | "
            f"{idle['turn_s']['with'] * ms:.0f} ms |",
            f"| The same, the server's schemas deferred (mcpSchemaBudget 0) | "
            f"{idle['turn_s']['deferred'] * ms:.0f} ms |",
            f"| The same turn, no MCP configured | {idle['turn_s']['without'] * ms:.0f} ms |",
            f"| Ratio with / without; deferred / without | {idle['ratio']:.3f}; "
            f"{idle['ratio_deferred']:.3f} |",
            f"| Control: a second claw without MCP / the first | {idle['ratio_control']:.3f} |",
            f"| MCP requests during those turns | {idle['mcp_calls_during_idle_turns']} |",
            f"| Tool definitions per request (with / deferred / without) | "
            f"{idle['tools_chars']['with']} / {idle['tools_chars']['deferred']} / "
            f"{idle['tools_chars']['without']} chars |",
            f"| MCP call through claw (toolCall -> toolResult), {call['calls']} calls | "
            f"{call['claw_call_s'] * ms:.1f} ms |",
            f"| The fixture's own handler time | {call['fixture_handler_s'] * ms:.1f} ms |",
            f"| Claw's overhead per call over the fixture | "
            f"{call['claw_overhead_s'] * ms:.1f} ms |",
            f"| The same call through the SDK alone; its overhead | {call['sdk_call_s'] * ms:.1f} "
            f"ms; {call['sdk_overhead_s'] * ms:.1f} ms |",
            "",
        ]
    )


async def run(argv: list[str] | None = None) -> tuple[str, str | None]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="claw-bench-mcp-") as scratch:
        root = Path(scratch)
        workspace = small_workspace(root / "ws")
        start = await startup(root, workspace)
        idle = await idle_turns(root, workspace, args.rounds)
        call = await call_overhead(root, workspace, args.calls)
    return render(start, idle, call), args.out


def main() -> None:
    text, out = asyncio.run(run())
    print(text)
    if out:
        Path(out).write_text(text)


if __name__ == "__main__":
    main()
