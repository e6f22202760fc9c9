"""2. First request size, 3. prefix stability, 4. per-step overhead (+ profile), 8b. peak RSS."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import PROFILED_COMMAND, Scratch, read_call, running_claw, scripted_model
from bench.profile import ProfileSummary, summarize_profile
from bench.profiled_server import PROFILE_ENV

LOOP_STEPS = 40
LOOP_OPTIONS = {"maxTurns": 100}
EDGE_STEPS = 5


def _canonical(value: Any) -> str:
    # json.loads keeps key order, so equal dumps mean the backend got the same bytes (modulo
    # insignificant whitespace, which the openai client never varies).
    return json.dumps(value, ensure_ascii=False)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class PromptResult:
    system_chars: int = 0
    tools_chars: int = 0
    tools_chars_spaced: int = 0
    tool_names: list[str] = field(default_factory=list)
    requests: int = 0
    stable_system: int = 0
    stable_tools: int = 0
    stable_both: int = 0
    first_difference: str = ""


async def measure_prompt(scratch: Scratch, workspace: Path) -> PromptResult:
    """A 10-request session over three turns, with a tier change and editor context between."""
    result = PromptResult()
    async with scripted_model() as model:
        model.add(
            read_call("app.py"),
            {"tool_calls": [{"name": "grep", "arguments": {"pattern": "greet"}}]},
            {"tool_calls": [{"name": "glob", "arguments": {"pattern": "*.py"}}]},
            {"tool_calls": [{"name": "list_dir", "arguments": {"path": "."}}]},
            {"text": "Found greet in app.py."},
            read_call("mod_01.py"),
            read_call("mod_02.py"),
            {"tool_calls": [{"name": "grep", "arguments": {"pattern": "value_"}}]},
            {"text": "Both modules return their index."},
            {"text": "Yes."},
        )
        async with running_claw(model, workspace, scratch.dir("prompt-state")) as claw:
            await claw.command("claw.ask", {"prompt": "where is greet defined?"})
            await claw.command("claw.setTier", {"tier": "write"})
            uri = claw.open(workspace / "app.py")
            await claw.command(
                "claw.ask",
                {
                    "prompt": "what do mod_01 and mod_02 return?",
                    "uri": uri,
                    "range": {
                        "start": {"line": 3, "character": 0},
                        "end": {"line": 4, "character": 10},
                    },
                },
            )
            await claw.command("claw.ask", {"prompt": "is that all?"})
        requests = model.chat_requests()
    first = requests[0]
    system = first["messages"][0]
    result.system_chars = len(system.get("content") or "") if system["role"] == "system" else 0
    tools = first.get("tools") or []
    result.tools_chars = len(_compact(tools))
    result.tools_chars_spaced = len(_canonical(tools))
    result.tool_names = [t["function"]["name"] for t in tools]
    result.requests = len(requests)
    for number, request in enumerate(requests, 1):
        same_system = _canonical(request["messages"][0]) == _canonical(system)
        same_tools = _canonical(request.get("tools")) == _canonical(first.get("tools"))
        result.stable_system += same_system
        result.stable_tools += same_tools
        result.stable_both += same_system and same_tools
        if not (same_system and same_tools) and not result.first_difference:
            part = "system message" if not same_system else "tools"
            result.first_difference = f"request {number}: {part} differs"
    return result


@dataclass
class LoopResult:
    first_turn_s: float = 0.0  # includes the lazy import of the HTTP client
    turn_s: list[float] = field(default_factory=list)
    requests_per_turn: int = 0
    # Gaps between consecutive model requests of the measured turns, by position in the turn:
    # they grow if each step costs more as the history gets longer.
    early_steps_s: list[float] = field(default_factory=list)
    late_steps_s: list[float] = field(default_factory=list)
    idle_rss_kb: int = 0
    peak_rss_kb: int = 0
    profile: ProfileSummary | None = None


def _loop_script() -> list[dict[str, Any]]:
    return [read_call(f"mod_{i:02d}.py") for i in range(LOOP_STEPS)] + [{"text": "Read all."}]


async def _loop_turn(claw: Any, model: Any, result: LoopResult | None = None) -> tuple[float, int]:
    before = len(model.chat_requests())
    model.add(*_loop_script())
    started = time.perf_counter()
    answer = await claw.command(
        "claw.ask", {"prompt": "read every module", "session": "new"}, token="bench-loop"
    )
    elapsed = time.perf_counter() - started
    if answer["stopReason"] != "done" or answer["toolCalls"] != LOOP_STEPS:
        raise RuntimeError(f"the 40-step loop did not complete: {answer['stopReason']}")
    if result is not None:
        arrivals = model.arrivals[before:]
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        result.early_steps_s += gaps[:EDGE_STEPS]
        result.late_steps_s += gaps[-EDGE_STEPS:]
    return elapsed, len(model.chat_requests()) - before


async def measure_loop(
    scratch: Scratch, workspace: Path, rounds: int, profile_dir: Path
) -> LoopResult:
    result = LoopResult()
    async with scripted_model() as model:
        state = scratch.dir("loop-state")
        async with running_claw(model, workspace, state, init_options=LOOP_OPTIONS) as claw:
            await asyncio.sleep(0.3)
            result.idle_rss_kb = claw.memory_kb()["VmRSS"]
            result.first_turn_s, _ = await _loop_turn(claw, model)
            for _ in range(rounds):
                elapsed, requests = await _loop_turn(claw, model, result)
                result.turn_s.append(elapsed)
                result.requests_per_turn = requests
            result.peak_rss_kb = claw.memory_kb()["VmHWM"]
        result.profile = await _profiled_loop(model, workspace, scratch, profile_dir)
    return result


async def _profiled_loop(
    model: Any, workspace: Path, scratch: Scratch, profile_dir: Path
) -> ProfileSummary:
    state = scratch.dir("profile-state")
    target = state / "loop.pyisession"
    async with running_claw(
        model,
        workspace,
        state,
        init_options=LOOP_OPTIONS,
        command=PROFILED_COMMAND,
        extra_env={PROFILE_ENV: str(target)},
    ) as claw:
        await _loop_turn(claw, model)  # warm: imports and first-connection costs out of the way
        os.kill(claw.pid, signal.SIGUSR1)
        elapsed, _ = await _loop_turn(claw, model)
        os.kill(claw.pid, signal.SIGUSR2)
        for _ in range(200):
            if target.exists():
                break
            await asyncio.sleep(0.05)
    return summarize_profile(target, profile_dir / "agent_loop.txt", elapsed)
