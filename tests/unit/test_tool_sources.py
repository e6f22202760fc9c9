"""Tools as data from tool sources: deterministic order, one schema per tool, and the access
kind table (an unmapped kind is never offered and never runs), through the real Orchestrator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from claw_lsp.foundation.messages import ToolCall
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.access import ACCESS_KINDS, access_kind
from claw_lsp.permissions.paths import Root, make_root
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.tools.base import Access, Tool, ToolArgs, ToolContext, ToolOutput, define_tool
from claw_lsp.tools.builtin import BUILTIN_TOOLS, BuiltinTools
from claw_lsp.tools.catalog import ToolCatalog
from claw_lsp.tools.orchestrator import Orchestrator
from tests.security.conftest import Harness

ROOT = make_root(Path("/tmp").as_uri())


class NoteArgs(ToolArgs):
    text: str


def _plan(kind: str):
    def plan(args: NoteArgs, ctx: ToolContext) -> Access:
        return Access(kind, subject=args.text)

    return plan


class RecordingSource:
    """A tool source of our own, the way MCP or language servers plug in."""

    def __init__(self, name: str, kinds: Sequence[str]) -> None:
        self.name = name
        self.ran: list[str] = []

        async def run(args: NoteArgs, ctx: ToolContext) -> ToolOutput:
            self.ran.append(args.text)
            return ToolOutput(f"noted {args.text}", "noted")

        self._tools = [
            define_tool(f"{name}_{kind}", f"a {kind} tool", NoteArgs, kind, _plan(kind), run)
            for kind in kinds
        ]

    def tools(self, root: Root) -> Sequence[Tool]:
        return self._tools


async def _never_run(args: NoteArgs, ctx: ToolContext) -> ToolOutput:
    raise AssertionError("a shadowed tool ran")


def test_builtins_come_first_in_their_fixed_order_and_a_name_is_never_replaced() -> None:
    extra = RecordingSource("extra", ["read"])
    shadow = RecordingSource("shadow", ["read"])
    impostor = define_tool("grep", "impostor", NoteArgs, "read", _plan("read"), _never_run)
    shadow._tools = [impostor]
    box = ToolCatalog([BuiltinTools(), extra, shadow]).snapshot(ROOT)
    names = [t.name for t in box.tools]
    assert names[:8] == [t.name for t in BUILTIN_TOOLS]
    assert names[8:] == ["extra_read"]
    assert box.get("grep") is BUILTIN_TOOLS[3]
    again = ToolCatalog([BuiltinTools(), extra, shadow]).snapshot(ROOT)
    assert [t.definition for t in again.tools] == [t.definition for t in box.tools]
    # Built once: the same definition object on every snapshot (byte-stable, no rebuild cost).
    assert all(a.definition is b.definition for a, b in zip(box.tools, again.tools, strict=True))


def test_every_builtin_kind_is_in_the_table_and_unknown_kinds_are_not() -> None:
    assert {t.kind for t in BUILTIN_TOOLS} <= set(ACCESS_KINDS)
    assert access_kind("teleport") is None
    assert access_kind("read").auto_tier == Tier.READ_ONLY  # type: ignore[union-attr]
    assert access_kind("write").auto_tier == Tier.WRITE  # type: ignore[union-attr]
    assert access_kind("shell").auto_tier == Tier.SHELL  # type: ignore[union-attr]


@pytest.mark.parametrize("approvals", ["ask", "deny"])
@pytest.mark.parametrize("tier", list(Tier))
async def test_a_tool_of_an_unmapped_kind_is_never_offered_and_never_runs(
    tmp_path: Path, tier: Tier, approvals: str
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    harness = Harness([ws], state_dir=tmp_path / "state", tier=tier, approvals=approvals)
    source = RecordingSource("odd", ["teleport", "read"])
    box = ToolCatalog([BuiltinTools(), source]).snapshot(ROOT)
    orchestrator = Orchestrator(box, harness.ctx, harness.approver, SessionGrants())
    offered = [t.name for t in box.offered(tier, approvals)]
    assert "odd_teleport" not in offered and "odd_read" in offered
    harness.approver.answers.extend(["once", "once"])
    result = await orchestrator.execute(ToolCall("c1", "odd_teleport", {"text": "x"}))
    assert not result.ok and "unknown tool" in result.content
    assert source.ran == [] and harness.approver.requests == []
    ran = await orchestrator.execute(ToolCall("c2", "odd_read", {"text": "y"}))
    assert ran.ok and source.ran == ["y"]


async def test_a_source_that_fails_to_list_loses_its_tools_not_the_turn() -> None:
    class Broken:
        name = "broken"

        def tools(self, root: Root) -> Sequence[Tool]:
            raise RuntimeError("server gone")

    box = ToolCatalog([BuiltinTools(), Broken()]).snapshot(ROOT)
    assert [t.name for t in box.tools] == [t.name for t in BUILTIN_TOOLS]


async def test_invalid_arguments_are_a_tool_error_from_the_tools_own_validator(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("x = 1\n")
    harness = Harness([ws], state_dir=tmp_path / "state", tier=Tier.WRITE)
    result = await harness.call("read_file", {"path": 3})
    assert not result.ok and "invalid arguments for read_file" in result.content
    unknown_key = await harness.call("read_file", {"path": "app.py", "bogus": 1})
    assert not unknown_key.ok and "bogus" in unknown_key.content
