"""Overhead toward the floor (issue 22): claw CLI and claw LSP side by side with the floor client.

    .venv/bin/python -m bench.overhead [--base TREE] [--rounds 3] [--out bench/overhead_results.md]

One run, one machine, one scripted keep-alive server per session (chunked SSE, as vLLM sends):
- the floor (bench/floor_client.py: keep-alive http.client, the same requests and history);
- claw from this tree, from the CLI (`claw-lsp ask`, two processes: a new session, then resumed)
  and over LSP (`claw.ask` twice in one server);
- with --base, the same two for another checkout (A/B: before and after, in the same run).
A session is 2 turns of STEPS_PER_TURN `read_file` steps (distinct files) and an answer.
Measured by the server: per-step wall (request to request), client gap (reply flushed to the
next request), its growth per message of history (least-squares slope), connections per turn,
bytes sent, first request from spawn. Separately: initialize vs a minimal pygls server, idle
RSS, and the first `claw.ask`'s request after initialize (at once, and after SETTLE_S idle).
Nothing here asserts a timing; the report gives ratios to the floor within this run.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import CLAW_COMMAND, MINIMAL_COMMAND, REPO, read_call, server_env
from bench.driver import LspClient
from tests.support.scripted_model import ScriptedModel

STEPS_PER_TURN = int(os.environ.get("CLAW_BENCH_STEPS", "100"))
TURNS = 2
MAX_TURNS = 150  # model calls per turn: room for STEPS_PER_TURN + the answer
SETTLE_S = 1.5  # after initialize: background warm-up done before RSS and the idle ask


class OverheadModel(ScriptedModel):
    """Keep-alive scripted server noting, per chat request, when it arrived and when the
    reply to it was flushed."""

    def __init__(self) -> None:
        super().__init__(keep_alive=True)
        self.arrivals: list[float] = []
        self.flushed: list[float] = []

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.arrivals.append(time.perf_counter())
        super().record(body, headers)

    def replied(self) -> None:
        self.flushed.append(time.perf_counter())


@dataclass
class Session:
    """What the server saw of one client's 2-turn session."""

    name: str
    spawned: float
    arrivals: list[float]
    flushed: list[float]
    connections: list[int]
    body_bytes: list[int]
    history: list[int]  # messages in each request
    per_turn: int = STEPS_PER_TURN + 1

    def _turns(self) -> list[range]:
        return [range(t * self.per_turn, (t + 1) * self.per_turn) for t in range(TURNS)]

    def walls(self) -> list[float]:
        return [self.arrivals[i + 1] - self.arrivals[i] for t in self._turns() for i in t[:-1]]

    def gaps(self) -> list[tuple[int, float]]:
        """(messages in the next request, reply flushed -> next request) within each turn."""
        return [
            (self.history[i + 1], self.arrivals[i + 1] - self.flushed[i])
            for t in self._turns()
            for i in t[:-1]
        ]

    def slope_us_per_message(self) -> float:
        """Theil-Sen: the median of the pairwise slopes, robust to the outliers a shared
        machine produces (a least-squares fit is not). Pairs of one turn, 10+ messages apart."""
        slopes: list[float] = []
        for turn in self._turns():
            points = [
                (self.history[i + 1], self.arrivals[i + 1] - self.flushed[i]) for i in turn[:-1]
            ]
            for a, (xa, ya) in enumerate(points):
                for xb, yb in points[a + 1 :]:
                    if xb - xa >= 10:
                        slopes.append((yb - ya) / (xb - xa))
        return statistics.median(slopes) * 1e6 if slopes else float("nan")

    def connections_per_turn(self) -> list[int]:
        return [len({self.connections[i] for i in t}) for t in self._turns()]

    def first_request_s(self) -> float:
        return self.arrivals[0] - self.spawned


@dataclass
class Startup:
    init_s: dict[str, list[float]] = field(default_factory=dict)
    idle_kb: dict[str, list[int]] = field(default_factory=dict)
    ask_at_once_s: dict[str, list[float]] = field(default_factory=dict)
    ask_after_idle_s: dict[str, list[float]] = field(default_factory=dict)


def _turn_script(turn: int) -> list[dict[str, Any]]:
    start = turn * STEPS_PER_TURN
    files = [read_call(f"mod_{start + i:03d}.py") for i in range(STEPS_PER_TURN)]
    return [*files, {"text": f"Read modules {start} to {start + STEPS_PER_TURN - 1}."}]


def _prompt(turn: int) -> str:
    start = turn * STEPS_PER_TURN
    return f"read modules {start} to {start + STEPS_PER_TURN - 1}"


def workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for index in range(STEPS_PER_TURN * TURNS):
        (root / f"mod_{index:03d}.py").write_text(
            f'"""Module {index}."""\n\n\ndef value_{index}() -> int:\n    return {index}\n'
        )
    return root


def _session(name: str, model: OverheadModel, spawned: float) -> Session:
    requests = model.chat_requests()
    expected = TURNS * (STEPS_PER_TURN + 1)
    if len(requests) != expected:
        raise RuntimeError(f"{name}: {len(requests)} model requests, expected {expected}")
    return Session(
        name,
        spawned,
        list(model.arrivals),
        list(model.flushed),
        list(model.request_connections),
        list(model.request_bytes),
        [len(r["messages"]) for r in requests],
    )


def _env(model: ScriptedModel, state: Path, tree: Path) -> dict[str, str]:
    # A window no session here fills: claw sends the whole history every step, as the floor
    # does (the 16k default would compact it in the second turn, and the requests would differ).
    return server_env(
        model.base_url,
        state,
        PYTHONPATH=str(tree),
        CLAW_MAX_TURNS=str(MAX_TURNS),
        CLAW_CONTEXT_WINDOW="1000000",
    )


async def run_floor(template: dict[str, Any], ws: Path, scratch: Path) -> Session:
    model = OverheadModel().start()
    try:
        for turn in range(TURNS):
            model.add(*_turn_script(turn))
        path = scratch / "floor-template.json"
        path.write_text(json.dumps({"url": model.base_url, "body": template}))
        prompts = [_prompt(t) for t in range(TURNS)]
        spawned = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.floor_client", str(path), str(ws), *prompts, cwd=REPO
        )
        if await process.wait() != 0:
            raise RuntimeError("the floor client failed")
        return _session("floor", model, spawned)
    finally:
        model.stop()


async def run_cli(name: str, tree: Path, ws: Path, state: Path) -> Session:
    model = OverheadModel().start()
    try:
        for turn in range(TURNS):
            model.add(*_turn_script(turn))
        env = _env(model, state, tree)
        session, spawned = "new", 0.0
        for turn in range(TURNS):
            started = time.perf_counter()
            spawned = spawned or started
            process = await asyncio.create_subprocess_exec(
                *CLAW_COMMAND,
                *("ask", _prompt(turn), "--folder", str(ws), "--session", session, "--json"),
                env=env,
                cwd=tree,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await process.communicate()
            result = json.loads(out)
            if result.get("stopReason") != "done":
                raise RuntimeError(f"{name}: turn {turn} stopped: {result.get('stopReason')}")
            session = result["session"]
        return _session(name, model, spawned)
    finally:
        model.stop()


async def run_lsp(name: str, tree: Path, ws: Path, state: Path) -> tuple[Session, dict[str, Any]]:
    """The LSP session, and claw's first request body (the floor's template)."""
    model = OverheadModel().start()
    try:
        for turn in range(TURNS):
            model.add(*_turn_script(turn))
        env = _env(model, state, tree)
        client = await LspClient.spawn(
            CLAW_COMMAND, env=env, cwd=tree, stderr_path=state / "server.log"
        )
        try:
            await client.initialize([ws], {"maxTurns": MAX_TURNS})
            session = "new"
            for turn in range(TURNS):
                result = await client.command(
                    "claw.ask", {"prompt": _prompt(turn), "session": session}
                )
                if result.get("stopReason") != "done":
                    raise RuntimeError(f"{name}: turn {turn} stopped: {result.get('stopReason')}")
                session = result["session"]
        finally:
            await client.close()
        first = dict(model.chat_requests()[0])
        first["messages"] = first["messages"][:1]
        return _session(name, model, client.started_at), first
    finally:
        model.stop()


async def _one_start(
    name: str,
    command: list[str],
    tree: Path,
    ws: Path,
    state: Path,
    model: ScriptedModel,
    startup: Startup,
    *,
    ask: str | None,
) -> None:
    """One spawn: initialize time; then RSS after settling and an ask after idle, or (ask
    'at once') an ask right after initialize."""
    client = await LspClient.spawn(
        command, env=_env(model, state, tree), cwd=tree, stderr_path=state / "server.log"
    )
    try:
        init_s = await client.initialize([ws])
        if ask != "at once":
            startup.init_s.setdefault(name, []).append(init_s)
            await asyncio.sleep(SETTLE_S)
            startup.idle_kb.setdefault(name, []).append(client.memory_kb()["VmRSS"])
        if ask is None:
            return
        model.add({"text": "ok"})
        before = len(model.arrivals)
        sent = time.perf_counter()
        await client.command("claw.ask", {"prompt": "hi", "session": "new"})
        if len(model.arrivals) > before:
            bucket = startup.ask_at_once_s if ask == "at once" else startup.ask_after_idle_s
            bucket.setdefault(name, []).append(model.arrivals[before] - sent)
    finally:
        await client.close()


async def measure_startup(trees: dict[str, Path], ws: Path, scratch: Path, rounds: int) -> Startup:
    startup = Startup()
    model = OverheadModel().start()
    try:
        for round_number in range(rounds + 1):  # round 0 warms the page cache, unrecorded
            target = startup if round_number else Startup()
            for name, tree in trees.items():
                state = scratch / f"startup-{name}"
                state.mkdir(parents=True, exist_ok=True)
                for ask in ("after idle", "at once"):
                    await _one_start(name, CLAW_COMMAND, tree, ws, state, model, target, ask=ask)
            state = scratch / "startup-minimal"
            state.mkdir(parents=True, exist_ok=True)
            await _one_start(
                "minimal pygls", MINIMAL_COMMAND, REPO, ws, state, model, target, ask=None
            )
    finally:
        model.stop()
    return startup


async def run_all(base: Path | None, rounds: int, scratch: Path) -> tuple[Any, Startup]:
    ws = workspace(scratch / "ws")
    trees = {"claw": REPO} if base is None else {"base": base, "claw": REPO}
    sessions: dict[str, list[Session]] = {}
    template: dict[str, Any] | None = None
    for round_number in range(rounds + 1):  # round 0 warms up, unrecorded
        for label, tree in trees.items():
            for front in ("CLI", "LSP"):
                name = f"{label} {front}"
                print(f"[bench] round {round_number}: {name}", file=sys.stderr, flush=True)
                state = scratch / f"{label}-{front}-{round_number}"
                state.mkdir(parents=True)
                if front == "LSP":
                    session, first = await run_lsp(name, tree, ws, state)
                    template = template if label != "claw" else first
                else:
                    session = await run_cli(name, tree, ws, state)
                if round_number:
                    sessions.setdefault(name, []).append(session)
        assert template is not None
        print(f"[bench] round {round_number}: floor", file=sys.stderr, flush=True)
        floor = await run_floor(template, ws, scratch)
        if round_number:
            sessions.setdefault("floor", []).append(floor)
    print("[bench] start-up", file=sys.stderr, flush=True)
    startup = await measure_startup(trees, ws, scratch, max(3, rounds + 2))
    return sessions, startup


def main(argv: list[str] | None = None) -> int:
    from bench.overhead_report import render

    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__)
    parser.add_argument("--base", type=Path, help="another checkout to compare (before)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "overhead_results.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="claw-overhead-") as scratch:
        sessions, startup = asyncio.run(run_all(args.base, args.rounds, Path(scratch)))
    text = render(sessions, startup, args, time.perf_counter() - started)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
