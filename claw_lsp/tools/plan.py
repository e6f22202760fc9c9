"""`exit_plan_mode`: in plan mode the model hands its plan (Markdown) to the user, and the
turn ends with it (Claude Code's ExitPlanMode; the seed's plan tools)."""

from __future__ import annotations

from pydantic import Field

from claw_lsp.tools.base import Access, ToolArgs, ToolContext, ToolError, ToolOutput, define_tool

MAX_PLAN_CHARS = 40_000


class PlanArgs(ToolArgs):
    plan: str = Field(min_length=1, max_length=MAX_PLAN_CHARS)


def _plan(args: PlanArgs, ctx: ToolContext) -> Access:
    return Access("plan", subject="the plan")


async def _run(args: PlanArgs, ctx: ToolContext) -> ToolOutput:
    if ctx.plan is None or not args.plan.strip():
        raise ToolError("exit_plan_mode works only in plan mode, with a non-empty plan")
    ctx.plan.hand_over(args.plan.strip())
    return ToolOutput("Plan handed to the user for review.", "plan handed over", end_turn=True)


EXIT_PLAN_MODE = define_tool(
    "exit_plan_mode",
    "Hand your finished plan (Markdown steps) to the user for review; ends the turn.",
    PlanArgs,
    "plan",
    _plan,
    _run,
    schema={"type": "object", "properties": {"plan": {"type": "string"}}, "required": ["plan"]},
)
