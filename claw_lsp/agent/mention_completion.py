"""Completion for `@` in the clients' prompt inputs (`claw.completeMentions`): the special
mentions, the folder's recent sessions, and files and folders relative to the folder (what rg
lists: .gitignore honoured, credential-like files left out), ranked by a fuzzy match."""

from __future__ import annotations

from typing import Any

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.state import FolderState
from claw_lsp.permissions.paths import is_sensitive_relative
from claw_lsp.tools.search import run_rg

MAX_FILES_SCANNED = 20_000
SPECIAL = (
    ("selection", "the selected text"),
    ("diagnostics", "the active file's errors and warnings"),
)


def fuzzy_score(query: str, candidate: str) -> int | None:
    """None when `query`'s characters do not appear in order in `candidate`; else a score
    (higher is better) favouring matches in the file name, consecutive runs and short paths."""
    if not query:
        return 1000 - len(candidate)
    lowered, wanted = candidate.lower(), query.lower()
    name_start = lowered.rstrip("/").rfind("/") + 1
    score, position, previous = 0, 0, -2
    for char in wanted:
        found = lowered.find(char, position)
        if found < 0:
            return None
        score += 10 if found == previous + 1 else 1
        score += 5 if found >= name_start else 0
        previous, position = found, found + 1
    if lowered[name_start:].startswith(wanted):
        score += 50
    return score * 10 - len(candidate)


async def complete_mentions(
    core: AgentCore, state: FolderState, prefix: str, limit: int = 50
) -> list[dict[str, Any]]:
    query = prefix.lstrip("@")
    scored: list[tuple[int, dict[str, Any]]] = []
    for name, detail in SPECIAL:
        score = fuzzy_score(query, name)
        if score is not None:
            scored.append((score + 100_000, _item(name, "special", detail)))
    for info in core.store.list(state.root.uri)[:10]:
        name = f"session:{info.id}"
        score = fuzzy_score(query, name)
        if score is not None and query.startswith(("s", "session")):
            scored.append((score, _item(name, "session", info.title or "(untitled)")))
    for path in await _paths(state):
        score = fuzzy_score(query, path)
        if score is not None:
            scored.append((score, _item(path, "dir" if path.endswith("/") else "file", "")))
    scored.sort(key=lambda pair: (-pair[0], pair[1]["name"]))
    return [item for _, item in scored[:limit]]


def _item(name: str, kind: str, detail: str) -> dict[str, Any]:
    return {"label": f"@{name}", "name": name, "kind": kind, "detail": detail}


async def _paths(state: FolderState) -> list[str]:
    code, out = await run_rg(
        ["--files", "--hidden", "--glob", "!.git", "--glob", "!node_modules"], state.root.real_path
    )
    if code not in (0, 1):
        return []
    files = [f for f in out.decode("utf-8", "replace").splitlines()[:MAX_FILES_SCANNED] if f]
    files = [f for f in files if not is_sensitive_relative(f)]
    folders = sorted({f"{parent}/" for f in files for parent in _parents(f)})
    return folders + sorted(files)


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
