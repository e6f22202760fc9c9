"""The diagnostics delta of an edit: which errors it introduced and which it fixed.

Before a write runs, the diagnostics of each file it touches are taken as the baseline (for a
claw-run server that has not seen the file yet, the baseline is waited for, bounded). After the
write, the diagnostics of the new document version are waited for: until every language
server of the file has published for that version, or `diagnosticsWait` passed. Only the
change is reported; nothing when nothing changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from claw_lsp.lsp_tools.diagnostics import Diagnostic, DiagnosticStore, errors_delta, plural
from claw_lsp.lsp_tools.errors import LanguageServerError
from claw_lsp.lsp_tools.hub import EDITOR, Document, LanguageHub, LanguageUnavailable
from claw_lsp.permissions.paths import ResolvedPath

if TYPE_CHECKING:
    from claw_lsp.lsp_tools.managed import ManagedServer

log = logging.getLogger(__name__)
MAX_FILES = 8
MAX_LINES_PER_KIND = 10
PREFETCH_FILES = 3
# After this many edits of files with one suffix that never got any diagnostics from the
# editor, the editor is taken to have no language server for them.
SILENT_AFTER = 2


@dataclass
class _Baseline:
    target: ResolvedPath
    text: str
    mark: int
    servers: list[ManagedServer] = field(default_factory=list)
    sources: tuple[str, ...] | None = None  # editor: who covers it, when the client says
    before: list[Diagnostic] | None = None  # None: unknown
    uncovered: bool = False
    problem: str | None = None


class DeltaObserver:
    """One per turn (calls in a turn run one after another)."""

    def __init__(self, hub: LanguageHub, silent: Counter[str]) -> None:
        self.hub = hub
        self._silent = silent  # shared across turns: suffixes the editor never diagnosed
        self._baselines: list[_Baseline] = []

    async def before(self, kind: str, paths: Sequence[ResolvedPath]) -> None:
        self._baselines = []
        if kind == "read":
            if self.hub.channel is None:
                for target in [p for p in paths if p.path.is_file()][:PREFETCH_FILES]:
                    self.hub.spawn(self.hub.prefetch(target))
            return
        if kind != "write":
            return
        budget = self.hub.diagnostics_wait()
        files = [p for p in paths if not p.path.is_dir()][:MAX_FILES]
        self._baselines = list(await asyncio.gather(*(self._baseline(p, budget) for p in files)))

    async def _baseline(self, target: ResolvedPath, budget: float) -> _Baseline:
        try:
            doc = self.hub.read(target)
            text = doc.text
        except LanguageUnavailable:
            doc, text = None, ""  # a file the write creates
        store = self.hub.store
        base = _Baseline(target, text, store.mark())
        if self.hub.channel is not None:
            base.sources = store.sources(target.uri)
            if base.sources == () or self._silent[target.path.suffix] >= SILENT_AFTER:
                base.uncovered = not store.has(target.uri)
            if store.has(target.uri):
                base.before = store.current(target.uri)
            return base
        language = doc.language_id if doc else None
        base.servers = self.hub.servers_for(target.path, language)
        if not base.servers:
            base.uncovered = True
            return base
        if doc is None:
            base.before = []
            return base
        found, problems = await self.hub.server_diagnostics(doc, base.servers, budget)
        base.problem = problems[0] if problems else None
        base.before = found if all(_current(store, s, target.uri) for s in base.servers) else None
        base.mark = store.mark()
        return base

    async def after(self, kind: str, paths: Sequence[ResolvedPath]) -> str:
        baselines, self._baselines = self._baselines, []
        if kind != "write" or not baselines:
            return ""
        budget = self.hub.diagnostics_wait()
        notes = await asyncio.gather(*(self._settle(b, budget) for b in baselines))
        lines = [line for note in notes for line in note]
        return "\n".join(lines)

    async def _settle(self, base: _Baseline, budget: float) -> list[str]:
        if base.uncovered:
            return [f"Diagnostics: no language server covers {base.target.relative}."]
        try:
            doc = self.hub.read(base.target)
        except LanguageUnavailable:
            return []
        if doc.text == base.text:
            return []  # nothing landed (a proposal, or the same text)
        if self.hub.channel is not None:
            after, problem = await self._editor_after(base, doc, budget)
        else:
            after, problem = await self._servers_after(base, doc, budget)
        if after is None:
            return [f"Diagnostics: {problem}."] if problem else []
        return render_delta(base.target.relative, base.before, after)

    async def _editor_after(
        self, base: _Baseline, doc: Document, budget: float
    ) -> tuple[list[Diagnostic] | None, str | None]:
        store = self.hub.store
        uri = base.target.uri
        arrived = await store.wait(
            uri,
            sources=base.sources or None,
            version=doc.version,
            after=base.mark,
            wait_s=budget,
        )
        if not arrived and not store.has(uri):
            self._silent[base.target.path.suffix] += 1
            return None, (
                f"no diagnostics for {base.target.relative} arrived from the editor within "
                f"{budget:g} s"
            )
        self._silent[base.target.path.suffix] = 0
        return store.current(uri), None

    async def _servers_after(
        self, base: _Baseline, doc: Document, budget: float
    ) -> tuple[list[Diagnostic] | None, str | None]:
        store = self.hub.store
        mark = store.mark()
        waits = []
        names = []
        problem = base.problem
        for server in base.servers:
            try:
                await server.ensure_running()
                version = server.sync(doc.uri, doc.text, doc.language_id)
            except LanguageServerError as exc:
                problem = str(exc)
                continue
            names.append(server.name)
            waits.append(
                store.wait(
                    doc.uri, sources=[server.name], version=version, after=mark, wait_s=budget
                )
            )
        if not names:
            return None, problem
        arrived = await asyncio.gather(*waits)
        if not any(arrived):
            return None, (
                f"{', '.join(names)} published no diagnostics for {base.target.relative} "
                f"within {budget:g} s"
            )
        return store.current(doc.uri, names), None


def _current(store: DiagnosticStore, server: ManagedServer, uri: str) -> bool:
    """Whether the server has published for the text it has now."""
    published = store.published(uri, server.name)
    synced = server.synced_version(uri)
    return published is not None and (published.version or 0) >= (synced or 0)


def render_delta(
    relative: str, before: list[Diagnostic] | None, after: list[Diagnostic]
) -> list[str]:
    if before is None:
        errors = [d for d in after if d.severity == 1]
        if not errors:
            return []
        head = (
            f"Diagnostics: {relative} has {plural(len(errors), 'error')} after this edit "
            "(none known from before it to compare):"
        )
        return [head, *_listed("  ", errors, relative)]
    delta = errors_delta(before, after)
    if not delta.new and not delta.fixed:
        return []
    parts = []
    if delta.new:
        parts.append(f"{plural(len(delta.new), 'new error')}")
    if delta.fixed:
        parts.append(f"fixed {plural(len(delta.fixed), 'error')}")
    lines = [f"Diagnostics: {relative}: {', '.join(parts)}"]
    lines += _listed("  + ", delta.new, relative)
    lines += _listed("  - fixed: ", delta.fixed, relative)
    return lines


def _listed(prefix: str, items: Sequence[Diagnostic], relative: str) -> list[str]:
    shown = [prefix + d.describe(relative) for d in items[:MAX_LINES_PER_KIND]]
    if len(items) > MAX_LINES_PER_KIND:
        shown.append(f"{prefix}... and {len(items) - MAX_LINES_PER_KIND} more")
    return shown


__all__ = ["EDITOR", "DeltaObserver", "render_delta"]
