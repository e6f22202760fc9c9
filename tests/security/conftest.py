"""Fixtures for the security suite: a real tool stack without an editor, and an orphan check."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from claw_lsp.config import Settings
from claw_lsp.edits.applier import ChangeApplier
from claw_lsp.edits.journal import TurnJournal
from claw_lsp.edits.proposals import ProposalStore
from claw_lsp.foundation.messages import ToolCall
from claw_lsp.foundation.ports import ApprovalAnswer, ApprovalRequest
from claw_lsp.foundation.tiers import Tier
from claw_lsp.headless import DiskEditor
from claw_lsp.permissions.paths import Workspace, make_root
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.tools.base import ToolContext
from claw_lsp.tools.builtin import BuiltinTools
from claw_lsp.tools.catalog import ToolCatalog
from claw_lsp.tools.orchestrator import Orchestrator, ToolCallResult

SANDBOX = probe_sandbox()
needs_bwrap = pytest.mark.skipif(
    not SANDBOX.available, reason=f"bwrap refused or missing here: {SANDBOX.reason}"
)


class ScriptedApprover:
    """The user at the other end of the Approver port: answers in order, records questions."""

    def __init__(self) -> None:
        self.answers: list[ApprovalAnswer] = []
        self.requests: list[ApprovalRequest] = []

    async def ask(self, request: ApprovalRequest) -> ApprovalAnswer:
        self.requests.append(request)
        return self.answers.pop(0) if self.answers else "deny"


@dataclass
class RecordingEvents:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        self.events.append((kind, payload))

    def notices(self) -> list[str]:
        return [p["message"] for kind, p in self.events if kind == "notice"]


class Harness:
    """The orchestrator and every real tool over a real workspace, writing through DiskEditor
    (the CLI's editor), so tool calls go through exactly the server's permission path."""

    def __init__(self, roots: list[Path], *, state_dir: Path, **settings: Any) -> None:
        self.workspace = Workspace(
            [make_root(r.as_uri(), r.name) for r in roots],
            protected_real_dirs=(state_dir.resolve(),),
        )
        self.settings = Settings(state_dir=state_dir, **settings)
        self.approver = ScriptedApprover()
        self.events = RecordingEvents()
        applier = ChangeApplier(
            editor=DiskEditor(),
            journal=TurnJournal(turn=1),
            proposals=ProposalStore(),
            session="s1",
            mode="apply",
            events=self.events,
        )
        self.ctx = ToolContext(
            workspace=self.workspace,
            root=self.workspace.roots[0],
            editor=DiskEditor(),
            applier=applier,
            settings=lambda: self.settings,
            events=self.events,
        )
        self.orchestrator = Orchestrator(
            ToolCatalog([BuiltinTools()]).snapshot(self.workspace.roots[0]),
            self.ctx,
            self.approver,
            SessionGrants(),
        )
        self._ids = 0

    def set(self, **changes: Any) -> None:
        self.settings = replace(self.settings, **changes)

    async def call(self, tool: str, arguments: Any, *answers: ApprovalAnswer) -> ToolCallResult:
        self.approver.answers.extend(answers)
        self._ids += 1
        return await self.orchestrator.execute(ToolCall(f"c{self._ids}", tool, arguments))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("TOPSECRET outside the workspace\n")
    return path


@pytest.fixture
def harness(ws: Path, tmp_path: Path) -> Harness:
    return Harness([ws], state_dir=tmp_path / "state", tier=Tier.WRITE)


def agent_processes(under: Path | None = None) -> list[int]:
    """Live processes started by an agent tool (the child env always carries CLAW_LSP_AGENT=1)
    that belong to this test run: below this pytest process, or working under `under` (an
    orphan re-parented to init keeps its cwd). Other test runs on the machine are not ours."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if b"CLAW_LSP_AGENT=1" not in environ or state in (b"Z", b"X"):
            continue
        mine = _descends_from(int(entry), me) or (
            under is not None and Path(cwd).is_relative_to(under)
        )
        if mine:
            found.append(int(entry))
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                pid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


@pytest.fixture
def no_orphans(tmp_path: Path) -> Iterator[None]:
    """After a shell test, no process an agent command started may still be running."""
    before = set(agent_processes(tmp_path))
    yield
    deadline = time.monotonic() + 10  # the kill is asynchronous; wait for it, never sleep fixed
    left: list[int] = []
    while time.monotonic() < deadline:
        left = [pid for pid in agent_processes(tmp_path) if pid not in before]
        if not left:
            return
        time.sleep(0.1)
    for pid in left:  # leave the machine clean, then fail
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail(f"orphaned agent processes survived the test: {left}")
