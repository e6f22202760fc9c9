"""`task`: delegate a self-contained job to a subagent with a fresh context; only its final
answer comes back (the seed's delegate_agent; Claude Code's Task). The child runs in
agent/subagents.py through the same orchestrator, at a tier never above the parent's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from claw_lsp.tools.agent_ports import DelegateRequest
from claw_lsp.tools.base import (
    Access,
    Tool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolOutput,
    define_tool,
)


class TaskArgs(ToolArgs):
    description: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=20_000)
    agent: str | None = Field(default=None, max_length=100)
    tools: Literal["read-only", "inherit"] | None = None


def _plan(args: TaskArgs, ctx: ToolContext) -> Access:
    return Access("agent", subject=f"a subagent: {args.description}")


async def _run(args: TaskArgs, ctx: ToolContext) -> ToolOutput:
    if ctx.subagents is None or ctx.call_id is None:
        raise ToolError("task is not available here")
    result = await ctx.subagents.delegate(
        DelegateRequest(args.description, args.prompt, args.tools, args.agent, ctx.call_id)
    )
    return ToolOutput(result.content, result.summary, ok=result.ok)


def task_tool(agents: str) -> Tool:
    """The tool, its description listing the agent types (`- name: description` lines, in a
    fixed order so the prefix stays byte-stable)."""
    return define_tool(
        "task",
        "Run a subagent with a fresh context on a self-contained job (e.g. exploring the code); "
        "only its final answer returns. tools: read-only (default) or inherit. Agents:\n" + agents,
        TaskArgs,
        "agent",
        _plan,
        _run,
        schema={
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "prompt": {"type": "string"},
                "agent": {"type": "string"},
                "tools": {"type": "string", "enum": ["read-only", "inherit"]},
            },
            "required": ["description", "prompt"],
        },
    )
