"""The built-in tools: the first tool source, in the order they are always offered."""

from __future__ import annotations

from collections.abc import Sequence

from claw_lsp.permissions.paths import Root
from claw_lsp.tools.base import Tool
from claw_lsp.tools.file_edits import APPLY_PATCH, EDIT_FILE, WRITE_FILE
from claw_lsp.tools.read_file import READ_FILE
from claw_lsp.tools.search import GLOB, GREP, LIST_DIR
from claw_lsp.tools.shell import SHELL

BUILTIN_TOOLS: tuple[Tool, ...] = (
    LIST_DIR,
    READ_FILE,
    GLOB,
    GREP,
    WRITE_FILE,
    EDIT_FILE,
    APPLY_PATCH,
    SHELL,
)


class BuiltinTools:
    name = "builtin"

    def tools(self, root: Root) -> Sequence[Tool]:
        return BUILTIN_TOOLS
