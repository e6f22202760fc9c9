"""The core tools, and which of them a session advertises."""

from __future__ import annotations

from typing import Any

from claw_lsp.permissions.tiers import Tier
from claw_lsp.tools.base import Tool
from claw_lsp.tools.file_edits import ApplyPatchTool, EditFileTool, WriteFileTool
from claw_lsp.tools.read_file import ReadFileTool
from claw_lsp.tools.search import GlobTool, GrepTool, ListDirTool
from claw_lsp.tools.shell import ShellTool

_KIND_TIER = {"read": Tier.READ_ONLY, "write": Tier.WRITE, "shell": Tier.SHELL}


class ToolRegistry:
    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {t.name: t for t in (tools or default_tools())}

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def all(self) -> list[Tool]:
        return list(self._tools.values())

    def advertised_names(self, tier: Tier, approvals: str) -> list[str]:
        """Only tools the session could ever run: with approvals off, a tool above the tier can
        never run, so the model never sees it."""
        if approvals != "deny":
            return list(self._tools)
        return [name for name, tool in self._tools.items() if tier.allows(_KIND_TIER[tool.kind])]

    def schemas(self, tier: Tier, approvals: str) -> list[dict[str, Any]]:
        return [self._tools[name].schema() for name in self.advertised_names(tier, approvals)]


def default_tools() -> list[Tool]:
    return [
        ListDirTool(),
        ReadFileTool(),
        GlobTool(),
        GrepTool(),
        WriteFileTool(),
        EditFileTool(),
        ApplyPatchTool(),
        ShellTool(),
    ]


def tier_needed(tool: Tool) -> Tier:
    return _KIND_TIER[tool.kind]
