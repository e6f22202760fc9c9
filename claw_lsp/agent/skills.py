"""Skills (agentskills.io `SKILL.md` directories) as a tool source: the `skill` tool lists
every skill's name and description in its own description (sorted and budgeted, so the
prefix stays byte-stable), and loads a skill's body only when the model asks for it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from claw_lsp.context.prompt_files import PromptFile, budgeted_listing, discover_skills
from claw_lsp.permissions.paths import PathDenied, Root
from claw_lsp.tools.base import (
    Access,
    Tool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolOutput,
    define_tool,
)

LIST_BUDGET_CHARS = 2_000
DESCRIPTION_CHARS = 150
BODY_CAP_CHARS = 40_000


class SkillArgs(ToolArgs):
    name: str = Field(description="The skill's name, from the list above")


def skill_list(skills: Sequence[PromptFile]) -> str:
    """`- name: description` lines, in name order, within the budget."""
    entries = [(s.name, (s.text("description") or "")[:DESCRIPTION_CHARS]) for s in skills]
    return budgeted_listing(entries, LIST_BUDGET_CHARS, "ask for a skill by name")


class SkillTools:
    """The `skill` tool of a folder, offered only when the folder (or the user) has skills."""

    name = "skills"

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Tool] = {}

    def tools(self, root: Root) -> Sequence[Tool]:
        skills = discover_skills(root.real_path)
        if not skills:
            return []
        listing = skill_list(skills)
        key = (str(root.real_path), listing)
        tool = self._cache.get(key)
        if tool is None:
            tool = self._cache[key] = _skill_tool(skills, listing)
        return [tool]


def _skill_tool(skills: Sequence[PromptFile], listing: str) -> Tool:
    by_name = {s.name: s for s in skills}

    def plan(args: SkillArgs, ctx: ToolContext) -> Access:
        skill = by_name.get(args.name)
        if skill is None:
            raise ToolError(f"no skill {args.name!r}; available: {', '.join(by_name)}")
        if skill.scope == "workspace":
            return Access("read", paths=(ctx.resolve(str(skill.path)),))
        return Access("read", subject=f"the user's skill {skill.name}")

    async def run(args: SkillArgs, ctx: ToolContext) -> ToolOutput:
        skill = by_name[args.name]
        body = (
            skill.body
            if len(skill.body) <= BODY_CAP_CHARS
            else (skill.body[:BODY_CAP_CHARS] + f"\n[... cut at {BODY_CAP_CHARS} characters]")
        )
        parts = [f"# Skill: {skill.name}", body.strip()]
        if skill.extra_files:
            readable = [_shown(path, skill, ctx) for path in skill.extra_files]
            parts.append("Files of this skill:\n" + "\n".join(f"- {r}" for r in readable))
        return ToolOutput("\n\n".join(parts), f"loaded skill {skill.name}")

    description = (
        "Load a skill: task-specific instructions (and the files that come with them). Call it "
        "when a skill fits the task.\nSkills:\n" + listing
    )
    return define_tool("skill", description, SkillArgs, "read", plan, run)


def _shown(path: Path, skill: PromptFile, ctx: ToolContext) -> str:
    """Workspace paths the model can pass to read_file; the user's own files by name only."""
    if skill.scope == "workspace":
        try:
            return ctx.workspace.resolve(str(path), base=ctx.root).relative
        except PathDenied:
            return path.name
    return f"{path.relative_to(skill.path.parent)} (the user's file; not readable here)"
