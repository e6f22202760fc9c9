"""Project MCP files (.mcp.json, .cursor/mcp.json): used only after the user approved them.

A repository's file is untrusted input (SECURITY.md §1.2), and each entry is a program claw
would run. So a file is read only after the user approves it, once per workspace folder and
per content hash: the dialog names every command line (and URL); a denied file is ignored;
a changed file asks again. Decisions live in the user's state directory (protected from the
agent), never in the repository. From a project file only the server entries count: `trusted`
and `tools` filters are user-level choices and are ignored there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from claw_lsp.config.mcp_servers import McpServerSpec, parse_mcp_servers
from claw_lsp.foundation.ports import ApprovalRequest, Approver
from claw_lsp.permissions.paths import Root
from claw_lsp.permissions.policy import display_safe

log = logging.getLogger(__name__)
PROJECT_FILES = (".mcp.json", ".cursor/mcp.json")
MAX_FILE_BYTES = 256 * 1024
Decision = Literal["approved", "denied"]


@dataclass(frozen=True)
class ProjectFile:
    root: Root
    relative: str
    digest: str
    specs: tuple[McpServerSpec, ...] = ()
    error: str | None = None
    decision: Decision | None = None  # None: not decided yet (or approvals are off)

    @property
    def path(self) -> Path:
        return self.root.real_path / self.relative


def read_project_files(root: Root) -> list[ProjectFile]:
    """The folder's project MCP files with their content hash; unreadable ones with an error."""
    out = []
    for relative in PROJECT_FILES:
        path = root.real_path / relative
        try:
            if not path.is_file():
                continue
            real = path.resolve()
            if not real.is_relative_to(root.real_path):
                raise ValueError("it points outside the workspace folder")
            data = real.read_bytes()
            if len(data) > MAX_FILE_BYTES:
                raise ValueError(f"it is larger than {MAX_FILE_BYTES} bytes")
        except (OSError, ValueError) as exc:
            out.append(ProjectFile(root, relative, "", error=f"{relative}: {exc}"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        try:
            raw = json.loads(data.decode("utf-8"))
            servers = raw.get("mcpServers") if isinstance(raw, dict) else None
            specs = parse_mcp_servers(servers, origin=str(path))
        except (ValueError, UnicodeDecodeError) as exc:
            out.append(ProjectFile(root, relative, digest, error=f"{relative}: {exc}"))
            continue
        untrusting = tuple(replace(s, trusted=False, allow=(), deny=()) for s in specs)
        out.append(ProjectFile(root, relative, digest, untrusting))
    return out


class ProjectApprovals:
    """`{folder: {file: {"sha256", "decision"}}}` in the user's state directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def decision(self, file: ProjectFile) -> Decision | None:
        entry = self._load().get(str(file.root.real_path), {}).get(file.relative)
        if isinstance(entry, dict) and entry.get("sha256") == file.digest:
            found = entry.get("decision")
            return found if found in ("approved", "denied") else None
        return None

    def record(self, file: ProjectFile, decision: Decision) -> None:
        data = self._load()
        folder = data.setdefault(str(file.root.real_path), {})
        folder[file.relative] = {"sha256": file.digest, "decision": decision}
        self._write(data)

    def forget(self, root: Root) -> bool:
        data = self._load()
        if data.pop(str(root.real_path), None) is None:
            return False
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".claw-tmp-mcp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except OSError:
            log.warning("cannot save MCP project approvals to %s", self.path, exc_info=True)
            Path(temp).unlink(missing_ok=True)


async def decide_project_files(
    roots: Sequence[Root],
    store: ProjectApprovals,
    approver: Approver,
    *,
    may_ask: bool,
    session_denials: dict[tuple[str, str, str], Decision],
) -> list[ProjectFile]:
    """Every project file with its decision, asking for those never decided at this hash. A
    denial by an approver that could not ask anyone (`interactive` False) is kept for this
    run only, in `session_denials`."""
    decided = []
    for root in roots:
        for file in read_project_files(root):
            if file.error or not file.specs:
                decided.append(file)
                continue
            decision = store.decision(file) or session_denials.get(_key(file))
            if decision is None and may_ask:
                answer = await approver.ask(approval_request(file))
                decision = "approved" if answer in ("once", "session") else "denied"
                if decision == "approved" or getattr(approver, "interactive", True):
                    store.record(file, decision)
                else:  # nobody could be asked (a CLI without a terminal): ask next run
                    session_denials[_key(file)] = decision
            decided.append(replace(file, decision=decision))
    return decided


def _key(file: ProjectFile) -> tuple[str, str, str]:
    return (str(file.root.real_path), file.relative, file.digest)


def approval_request(file: ProjectFile) -> ApprovalRequest:
    lines = []
    for spec in file.specs:
        env = ", ".join(key for key, _ in spec.env)
        described = f"{spec.name}: {spec.describe()}" + (f" (env: {env})" if env else "")
        lines.append(display_safe(described, limit=500))  # bidi and control characters shown
    return ApprovalRequest(
        tool=f"the MCP servers of {file.path}",
        subject="\n" + "\n".join(lines),
        reason=(
            "a file in this project asks claw to start these programs. Allow: used from now "
            "on, until the file changes. Deny: ignored until it changes"
        ),
        allow_session=False,
    )
