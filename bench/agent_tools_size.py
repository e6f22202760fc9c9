"""Request sizes with and without the agent's own tools (issue 18). Reports numbers; nothing
here fails. The first request of a session ("hello") as the scripted model received it, in a
claw with the defaults and in one whose rules deny todo_write and task (so neither is offered),
and a plan-mode first request (read-only tools + exit_plan_mode); compact JSON characters of
the system message and the tools, and the ratio.

    .venv/bin/python -m bench.agent_tools_size [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import running_claw, scripted_model, small_workspace

CASES: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    ("without todo_write and task", {"permissions": {"deny": ["todo_write", "task"]}}, {}),
    ("with them (default)", {}, {}),
    ("plan mode (read-only + exit_plan_mode)", {}, {"mode": "plan"}),
)


def _chars(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


async def measure(root: Path) -> list[dict[str, Any]]:
    workspace = small_workspace(root / "ws", files=2)
    rows = []
    for n, (label, options, ask) in enumerate(CASES):
        async with scripted_model() as model:
            model.add({"text": "hi"})
            state = root / f"state{n}"
            state.mkdir()
            async with running_claw(model, workspace, state, init_options=options) as claw:
                await claw.command("claw.ask", {"prompt": "hello", **ask})
            (request,) = model.chat_requests()
        tools = request.get("tools", [])
        agent = [
            t for t in tools if t["function"]["name"] in ("todo_write", "task", "exit_plan_mode")
        ]
        rows.append(
            {
                "case": label,
                "tools": len(tools),
                "system": _chars(request["messages"][0]),
                "tools_chars": _chars(tools),
                "agent_tools_chars": sum(_chars(t) for t in agent),
                "request": _chars(request),
            }
        )
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    base = rows[0]["request"]
    lines = [
        "| case | tools | system chars | tool chars | of which agent tools | request chars "
        "| vs without |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['tools']} | {r['system']} | {r['tools_chars']} | "
            f"{r['agent_tools_chars']} | {r['request']} | {r['request'] / base:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = report(asyncio.run(measure(Path(tmp))))
    print(table)
    if args.out:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
