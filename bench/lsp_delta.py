"""What the diagnostics delta (issue 16) adds: per edit, and to a turn without edits.

    .venv/bin/python -m bench.lsp_delta [--rounds N]

Drives the real claw-lsp (a client without workspace/applyEdit, so edits land on disk) with
the real jedi-language-server configured through `languageServers`, against the scripted
model. Each step's time is the gap between two model requests (the tool call's whole server
side, the delta included). The same turns run without languageServers; the difference of the
medians is what the delta adds. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CLAW_COMMAND, REPO, TimedModel, server_env
from bench.driver import EDITOR_CAPABILITIES, LspClient

JEDI = Path(sys.executable).parent / "jedi-language-server"
EDITS = 6
WAIT_S = 1.5
# A real model takes a while between reading a file and editing it; the read has already
# handed the file to the language server (prefetch), so the baseline is ready by then.
THINK_S = 2.0


def _edit(old: str, new: str) -> dict[str, Any]:
    arguments = {"path": "app.py", "old_text": old, "new_text": new}
    return {"tool_calls": [{"name": "edit_file", "arguments": arguments}]}


def _read(path: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}


def edit_script() -> list[dict[str, Any]]:
    """A read, then edits: harmless ones, one that breaks the syntax, one that fixes it."""
    steps = [_read("app.py")]
    for n in range(1, EDITS + 1):
        if n == 1:
            steps.append({**_edit("VALUE = 0", "VALUE = 1"), "delay": THINK_S})
            continue
        if n == 3:
            steps.append(_edit(f"VALUE = {n - 1}", f"VALUE = ({n}"))
        elif n == 4:
            steps.append(_edit(f"VALUE = ({n - 1}", f"VALUE = {n}"))
        else:
            steps.append(_edit(f"VALUE = {n - 1}", f"VALUE = {n}"))
    return [*steps, {"text": "done"}]


def read_script() -> list[dict[str, Any]]:
    return [*(_read(f"mod_{n}.py") for n in range(EDITS + 1)), {"text": "done"}]


def _workspace(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "app.py").write_text("import os\n\nVALUE = 0\n\n\ndef main():\n    return VALUE\n")
    for n in range(EDITS + 1):
        (root / f"mod_{n}.py").write_text(f"def value_{n}():\n    return {n}\n")
    return root


async def _turn(root: Path, script: list[dict[str, Any]], with_jedi: bool) -> list[float]:
    """Per-step seconds (tool call to the next model request) of one turn."""
    workspace = _workspace(root / "ws")
    model = TimedModel().start()
    model.add(*copy.deepcopy(script))
    options: dict[str, Any] = {"tier": "write", "diagnosticsWait": WAIT_S, "maxTurns": 50}
    if with_jedi:
        options["languageServers"] = {"python": {"command": [str(JEDI)], "extensions": [".py"]}}
    capabilities = copy.deepcopy(EDITOR_CAPABILITIES)
    capabilities["workspace"]["applyEdit"] = False  # claw writes the files itself
    client = await LspClient.spawn(
        CLAW_COMMAND,
        env=server_env(model.base_url, root / "state"),
        cwd=REPO,
        stderr_path=root / "server.log",
    )
    try:
        await client.request(
            "initialize",
            {
                "processId": None,
                "capabilities": capabilities,
                "workspaceFolders": [{"uri": workspace.as_uri(), "name": "ws"}],
                "initializationOptions": options,
            },
        )
        client.notify("initialized", {})
        result = await client.command("claw.ask", {"prompt": "go"})
        assert result["stopReason"] == "done", result
    finally:
        await client.close()
        model.stop()
    arrivals = model.arrivals
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


async def measure(rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {
        "edit, jedi": [],
        "edit, none": [],
        "read, jedi": [],
        "read, none": [],
        "first edit, jedi": [],
    }
    with tempfile.TemporaryDirectory(prefix="claw-bench-lsp-") as scratch:
        base = Path(scratch)
        for index in range(rounds):
            for with_jedi in (True, False):
                label = "jedi" if with_jedi else "none"
                steps = await _turn(base / f"e{index}{label}", edit_script(), with_jedi)
                # steps[0] is the read; then the edits.
                edits = steps[1 : EDITS + 1]
                samples[f"edit, {label}"] += edits[1:]
                if with_jedi:
                    samples["first edit, jedi"].append(edits[0] - THINK_S)
                steps = await _turn(base / f"r{index}{label}", read_script(), with_jedi)
                samples[f"read, {label}"] += steps[: EDITS + 1]
    return samples


def report(samples: dict[str, list[float]]) -> str:
    def median(key: str) -> float:
        return statistics.median(samples[key]) if samples[key] else float("nan")

    rows = [
        "| step | median s | max s | n |",
        "|---|---|---|---|",
    ]
    for key, values in samples.items():
        rows.append(f"| {key} | {median(key):.3f} | {max(values):.3f} | {len(values)} |")
    added_edit = median("edit, jedi") - median("edit, none")
    added_read = median("read, jedi") - median("read, none")
    rows += [
        "",
        f"Median added per edit by the delta (jedi-language-server): **{added_edit:.3f} s** "
        f"(diagnosticsWait {WAIT_S} s; bound met: {added_edit <= WAIT_S}).",
        f"Median added per step of a turn without edits: **{added_read:.3f} s**.",
        "jedi-language-server debounces its diagnostics by 1 s, so about 1 s per edit is the "
        "floor with it; the wait stops as soon as it has published for the new version.",
        f"'first edit' is the first edit of a file, {THINK_S:g} s of model time after reading "
        "it (the read started jedi and handed it the file), model time excluded.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not JEDI.exists():
        sys.exit(f"{JEDI} is missing: pip install -e '.[dev]'")
    started = time.perf_counter()
    samples = asyncio.run(measure(args.rounds))
    print(report(samples))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
