"""Issue 22: two per-step pieces timed alone, for this tree and (--base) another one, each in a
process of its own: the nested instruction-file check before a step (200 files worked in 10
folders that each have an AGENTS.md, the history growing by a step each time) and the
text-mode request build (200 read_file steps). Medians of a few runs; nothing asserted.

    .venv/bin/python -m bench.step_pieces [--base TREE] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MARKS = (1, 20, 100, 200)


def _rules_check() -> dict[int, float]:
    """us for the check of step N (a new folder every 20 files; N=20, 100, 200: none new)."""
    from claw_lsp.context import turn_context
    from claw_lsp.permissions.paths import Root

    base = Path(tempfile.mkdtemp()).resolve()
    ws = base / "ws"
    (ws / ".git").mkdir(parents=True)
    files = []
    for f in range(10):
        (ws / f"pkg{f}").mkdir()
        (ws / f"pkg{f}" / "AGENTS.md").write_text(f"rules {f}")
        for i in range(20):
            path = ws / f"pkg{f}" / f"m{i}.py"
            path.write_text("x = 1\n")
            files.append(path)
    root, home = Root(ws.as_uri(), "ws", ws, ws), base / "home"
    watch_class = getattr(turn_context, "NestedRulesWatch", None)
    watch = watch_class(home=home) if watch_class else None
    history: list[dict[str, Any]] = [{"role": "user", "content": "hi"}]
    worked: list[Path] = []
    out: dict[int, float] = {}
    for step, path in enumerate(files, start=1):
        worked.append(path)
        history += [{"role": "assistant", "content": None}, {"role": "tool", "content": "x"}]
        started = time.perf_counter()
        if watch is not None:
            message = watch.message(root, history, worked)
        else:
            message = turn_context.nested_rules_message(root, history, worked, home=home)
        out[step] = (time.perf_counter() - started) * 1e6
        if message:
            history.append(message)
    return {n: out[n] for n in MARKS}


def _text_mode_build() -> dict[int, float]:
    from claw_lsp.llm.wire import WireModel

    class _Backend:
        model_name = "m"

    schema = {"type": "object", "properties": {"path": {"type": "string"}}}
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": schema}}]
    model = WireModel(_Backend(), tool_mode="text")  # type: ignore[arg-type]
    history: list[dict[str, Any]] = [{"role": "user", "content": "read them"}]
    out: dict[int, float] = {}
    for step in range(1, 201):
        arguments = json.dumps({"path": f"mod_{step}.py"})
        call = {"id": f"c{step}", "type": "function"}
        call["function"] = {"name": "read_file", "arguments": arguments}  # type: ignore[assignment]
        history.append({"role": "assistant", "content": None, "tool_calls": [call]})
        history.append(
            {"role": "tool", "tool_call_id": f"c{step}", "content": "def f(): ...\n" * 20}
        )
        started = time.perf_counter()
        model.build_request("sys", tools, history)
        out[step] = (time.perf_counter() - started) * 1e6
    return {n: out[n] for n in MARKS}


def _child() -> None:
    print(json.dumps({"rules": _rules_check(), "text": _text_mode_build()}))


def _measure(tree: Path, runs: int) -> dict[str, dict[str, float]]:
    samples: list[dict[str, dict[str, float]]] = []
    for _ in range(runs):
        done = subprocess.run(
            # This file run as a script: the base tree need not have it; claw_lsp is the tree's.
            [sys.executable, str(Path(__file__).resolve()), "--child"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tree,
            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        )
        samples.append(json.loads(done.stdout))
    return {
        piece: {n: statistics.median(s[piece][n] for s in samples) for n in samples[0][piece]}
        for piece in ("rules", "text")
    }


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        _child()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, help="another checkout (before)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trees = {"claw": REPO} if args.base is None else {"base": args.base, "claw": REPO}
    results = {name: _measure(tree, args.runs) for name, tree in trees.items()}
    for piece, title in (("rules", "nested-rules check"), ("text", "text-mode request build")):
        print(f"\n{title}, us at step N (median of {args.runs} runs)")
        print("| N | " + " | ".join(trees) + " |")
        print("|---|" + "---|" * len(trees))
        for n in map(str, MARKS):
            print(f"| {n} | " + " | ".join(f"{results[t][piece][n]:.0f}" for t in trees) + " |")


if __name__ == "__main__":
    main()
