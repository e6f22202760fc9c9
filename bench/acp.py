"""ACP overhead per agent step versus the LSP door, in one run (issue 21).

    .venv/bin/python -m bench.acp [--rounds 5] [--steps 40] [--out bench/acp_results.md]

Both doors run the same core: one `claw-lsp` (LSP, driven by bench/driver.py's raw JSON-RPC
client) and one `claw-lsp acp` (driven by the official ACP SDK's client side) against the same
scripted model, turns alternated so machine load hits both alike. A turn is `steps` read_file
calls and an answer; per-step time is the turn's wall time over its model requests. The
report is the ratio of medians (ACP / LSP); nothing here asserts a timing."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, spawn_agent_process
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    RequestPermissionResponse,
    TextContentBlock,
)

from bench.common import REPO, Scratch, read_call, running_claw, scripted_model, server_env
from bench.common import small_workspace as make_workspace


class CountingClient:
    """An ACP client that counts updates (a real editor renders them; the cost is ours)."""

    def __init__(self) -> None:
        self.updates = 0

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates += 1

    async def request_permission(self, *args: Any, **kwargs: Any) -> RequestPermissionResponse:
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id="allow-once")
        )


def _script(steps: int) -> list[dict[str, Any]]:
    return [read_call(f"mod_{i % 40:02d}.py") for i in range(steps)] + [{"text": "Read all."}]


async def _lsp_turn(claw: Any, model: Any, steps: int) -> float:
    before = len(model.chat_requests())
    model.add(*_script(steps))
    started = time.perf_counter()
    answer = await claw.command("claw.ask", {"prompt": "read every module", "session": "new"})
    elapsed = time.perf_counter() - started
    requests = len(model.chat_requests()) - before
    if answer["stopReason"] != "done" or requests != steps + 1:
        raise RuntimeError(f"LSP turn did not complete: {answer['stopReason']}")
    return elapsed / requests


async def _acp_turn(conn: Any, cwd: Path, model: Any, steps: int) -> float:
    before = len(model.chat_requests())
    model.add(*_script(steps))
    session = await conn.new_session(cwd=str(cwd), mcp_servers=[])
    started = time.perf_counter()
    done = await conn.prompt(
        session_id=session.session_id,
        prompt=[TextContentBlock(type="text", text="read every module")],
    )
    elapsed = time.perf_counter() - started
    requests = len(model.chat_requests()) - before
    if done.stop_reason != "end_turn" or requests != steps + 1:
        raise RuntimeError(f"ACP turn did not complete: {done.stop_reason}")
    return elapsed / requests


async def measure(rounds: int, steps: int, root: Path) -> dict[str, Any]:
    scratch = Scratch(root)
    workspace = make_workspace(root / "ws")
    lsp_steps: list[float] = []
    acp_steps: list[float] = []
    client = CountingClient()
    async with scripted_model() as model:
        turns = {"CLAW_MAX_TURNS": str(steps + 10)}
        state = scratch.dir("acp-state")
        env = server_env(model.base_url, state, **turns)
        async with (
            running_claw(
                model,
                workspace,
                scratch.dir("lsp-state"),
                init_options={"maxTurns": steps + 10},
            ) as claw,
            spawn_agent_process(
                client,
                sys.executable,
                "-m",
                "claw_lsp",
                "acp",
                env=env,
                cwd=str(REPO),
                transport_kwargs={"stderr": (state / "agent.log").open("wb")},
            ) as (conn, _process),
        ):
            await conn.initialize(
                protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities()
            )
            # Warm-up: imports, the first HTTP connection, the tool catalog.
            await _lsp_turn(claw, model, steps)
            await _acp_turn(conn, workspace, model, steps)
            for index in range(rounds):
                order = (0, 1) if index % 2 == 0 else (1, 0)
                for door in order:
                    if door == 0:
                        lsp_steps.append(await _lsp_turn(claw, model, steps))
                    else:
                        acp_steps.append(await _acp_turn(conn, workspace, model, steps))
    lsp = statistics.median(lsp_steps)
    acp = statistics.median(acp_steps)
    return {
        "rounds": rounds,
        "steps": steps,
        "lsp_ms": [round(s * 1000, 2) for s in lsp_steps],
        "acp_ms": [round(s * 1000, 2) for s in acp_steps],
        "lsp_median_ms": round(lsp * 1000, 2),
        "acp_median_ms": round(acp * 1000, 2),
        "ratio": round(acp / lsp, 3),
        "acp_updates": client.updates,
    }


def report(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            "# ACP vs LSP door: per-step overhead (bench/acp.py)",
            "",
            f"{result['rounds']} alternated turns per door of {result['steps']} read_file "
            "steps + an answer, after one warm-up turn each; per-step = turn wall time / "
            "model requests.",
            "",
            "| door | median per step (ms) | per turn (ms per step) |",
            "|---|---|---|",
            f"| LSP (`claw.ask`) | {result['lsp_median_ms']} | {result['lsp_ms']} |",
            f"| ACP (`session/prompt`) | {result['acp_median_ms']} | {result['acp_ms']} |",
            "",
            f"**Ratio of medians, ACP / LSP: {result['ratio']}** "
            f"({result['acp_updates']} session updates received by the ACP client).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claw-bench-acp-") as tmp:
        result = asyncio.run(measure(args.rounds, args.steps, Path(tmp)))
    text = report(result)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
