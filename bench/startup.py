"""1. Cold start to the initialize response, and 8a. idle memory: claw-lsp vs minimal pygls."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import CLAW_COMMAND, MINIMAL_COMMAND, REPO, Scratch, server_env
from bench.driver import LspClient

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
SETTLE_S = 0.3  # let initialized's configuration pull finish before reading RSS


@dataclass
class StartupResult:
    claw_s: list[float] = field(default_factory=list)
    minimal_s: list[float] = field(default_factory=list)
    claw_idle_kb: list[int] = field(default_factory=list)
    minimal_idle_kb: list[int] = field(default_factory=list)
    claw_imports_ms: dict[str, float] = field(default_factory=dict)
    minimal_imports_ms: dict[str, float] = field(default_factory=dict)
    claw_heaviest_ms: list[tuple[str, float]] = field(default_factory=list)
    # Who pulls the HTTP client in at start-up, outermost first (empty: nobody, as intended).
    http_client_chain: list[str] = field(default_factory=list)


async def _one_start(
    command: list[str], workspace: Path, state_dir: Path, env: dict[str, str]
) -> tuple[float, int]:
    client = await LspClient.spawn(command, env=env, cwd=REPO, stderr_path=state_dir / "server.log")
    try:
        elapsed = await client.initialize([workspace])
        await asyncio.sleep(SETTLE_S)
        rss = client.memory_kb()["VmRSS"]
    finally:
        await client.close()
    return elapsed, rss


async def measure_startup(
    scratch: Scratch, workspace: Path, base_url: str, rounds: int
) -> StartupResult:
    result = StartupResult()
    state_dir = scratch.dir("startup-state")
    env = server_env(base_url, state_dir)
    # A first, unmeasured start of each fills the OS page cache and writes .pyc files.
    for command in (CLAW_COMMAND, MINIMAL_COMMAND):
        await _one_start(command, workspace, state_dir, env)
    for _ in range(rounds):
        # Interleaved, so a burst of load on the machine hits both sides alike.
        elapsed, rss = await _one_start(CLAW_COMMAND, workspace, state_dir, env)
        result.claw_s.append(elapsed)
        result.claw_idle_kb.append(rss)
        elapsed, rss = await _one_start(MINIMAL_COMMAND, workspace, state_dir, env)
        result.minimal_s.append(elapsed)
        result.minimal_idle_kb.append(rss)
    claw = await _import_profile(CLAW_COMMAND, workspace, scratch.dir("importtime-claw"), env)
    result.claw_imports_ms, result.claw_heaviest_ms, result.http_client_chain = claw
    minimal = await _import_profile(
        MINIMAL_COMMAND, workspace, scratch.dir("importtime-minimal"), env
    )
    result.minimal_imports_ms = minimal[0]
    return result


async def _import_profile(
    command: list[str], workspace: Path, state_dir: Path, env: dict[str, str]
) -> tuple[dict[str, float], list[tuple[str, float]], list[str]]:
    """Self import time per top-level package, the heaviest single modules (self time), and
    the import chain that brings in the HTTP client, from `-X importtime` of a real start up
    to the initialize response."""
    log = state_dir / "server.log"
    log.unlink(missing_ok=True)
    client = await LspClient.spawn(
        command, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=REPO, stderr_path=log
    )
    try:
        await client.initialize([workspace])
    finally:
        await client.close()
    per_package: dict[str, float] = defaultdict(float)
    modules: list[tuple[str, float]] = []
    nesting: list[tuple[int, str]] = []
    for line in log.read_text(errors="replace").splitlines():
        match = _IMPORT_LINE.search(line)
        if not match:
            continue
        self_ms = int(match.group(1)) / 1000
        module = match.group(4)
        per_package[module.split(".")[0]] += self_ms
        modules.append((module, self_ms))
        nesting.append((len(match.group(3)), module))
    heaviest = sorted(modules, key=lambda item: -item[1])[:8]
    return dict(per_package), heaviest, _chain_to(nesting, HTTP_CLIENT_PACKAGES)


HTTP_CLIENT_PACKAGES = ("openai", "httpx2", "httpx")


def _chain_to(nesting: list[tuple[int, str]], packages: tuple[str, ...]) -> list[str]:
    """importtime prints a module after everything it imported, indented one level deeper
    than its importer: the importer is the next line that is less indented."""
    entries = [
        (depth, index)
        for index, (depth, module) in enumerate(nesting)
        if module.split(".")[0] in packages
    ]
    if not entries:
        return []
    depth, index = min(entries)  # the outermost import of the HTTP client
    chain = [nesting[index][1]]
    for later_depth, later in nesting[index + 1 :]:
        if later_depth < depth:
            chain.append(later)
            depth = later_depth
    return list(reversed(chain))
