"""Diagnostics from every language server, per document and per server, and what an edit
changed in them.

Each server ("source": a claw-run server's name, or the editor's name for what a client pushes
with `claw/diagnostics`) publishes its whole list for a document, for a document version. The
store keeps the last list per (document, source) and lets a caller wait until every source of
a document has published for at least a given version.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.permissions.paths import PathDenied, resolve_real, uri_to_path

MAX_DIAGNOSTICS_PER_SOURCE = 500
MAX_MESSAGE_CHARS = 300
SEVERITY_NAMES = {1: "error", 2: "warning", 3: "info", 4: "hint"}
ERROR = 1


@dataclass(frozen=True)
class Diagnostic:
    line: int  # 0-based start line
    character: int  # start column in the publishing server's position encoding
    severity: int
    message: str
    source: str | None
    code: str | None
    raw: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> tuple[int, str | None, str | None, str]:
        """Identity across an edit: positions move when lines are added, the problem does not."""
        return (self.severity, self.source, self.code, self.message)

    def describe(self, path: str | None = None) -> str:
        where = f"{path}:" if path else "line "
        severity = SEVERITY_NAMES.get(self.severity, "error")
        source = f" [{self.source}]" if self.source else ""
        code = f" ({self.code})" if self.code else ""
        message = " ".join(self.message.split())[:MAX_MESSAGE_CHARS]
        return f"{where}{self.line + 1}:{self.character + 1} {severity}{source}{code}: {message}"


def _int(value: Any, default: int = 0) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else default


def parse_diagnostic(item: Any) -> Diagnostic | None:
    """One LSP Diagnostic (JSON) or None when it is not one; tolerant of odd servers."""
    if not isinstance(item, Mapping):
        return None
    rng = item.get("range")
    start = rng.get("start") if isinstance(rng, Mapping) else None
    if not isinstance(start, Mapping):
        return None
    message = item.get("message")
    if isinstance(message, Mapping):  # MarkupContent (LSP 3.18)
        message = message.get("value")
    if not isinstance(message, str):
        return None
    severity = _int(item.get("severity"), ERROR)
    code = item.get("code")
    source = item.get("source")
    return Diagnostic(
        line=_int(start.get("line")),
        character=_int(start.get("character")),
        severity=severity if severity in SEVERITY_NAMES else ERROR,
        message=message,
        source=str(source) if isinstance(source, str) and source else None,
        code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        raw=item,
    )


def parse_diagnostics(items: Any) -> list[Diagnostic]:
    if not isinstance(items, list):
        return []
    parsed = (parse_diagnostic(item) for item in items[:MAX_DIAGNOSTICS_PER_SOURCE])
    return [d for d in parsed if d is not None and d.source != "claw"]


def document_key(uri: str) -> str:
    """One key per file whatever the URI's spelling (editors percent-encode differently)."""
    try:
        return str(resolve_real(uri_to_path(uri)))
    except (PathDenied, OSError, ValueError):
        return uri


@dataclass(frozen=True)
class Published:
    version: int | None
    diagnostics: tuple[Diagnostic, ...]
    seq: int  # store-wide arrival order


class DiagnosticStore:
    """Keyed by document (any URI spelling of a file finds the same entry)."""

    def __init__(self) -> None:
        self._by_uri: dict[str, dict[str, Published]] = {}
        self._sources: dict[str, tuple[str, ...]] = {}  # who covers a document, when known
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._tick = asyncio.Event()

    def publish(
        self,
        uri: str,
        source: str,
        version: int | None,
        diagnostics: Iterable[Diagnostic],
        sources: Sequence[str] | None = None,
    ) -> None:
        uri = document_key(uri)
        self._last_seq = next(self._seq)
        self._by_uri.setdefault(uri, {})[source] = Published(
            version, tuple(diagnostics), self._last_seq
        )
        if sources is not None:
            self._sources[uri] = tuple(sources)
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    def set_sources(self, uri: str, sources: Sequence[str]) -> None:
        self._sources[document_key(uri)] = tuple(sources)

    def forget_source(self, source: str) -> None:
        """A server that exited: its diagnostics no longer hold."""
        for per_source in self._by_uri.values():
            per_source.pop(source, None)

    def sources(self, uri: str) -> tuple[str, ...] | None:
        return self._sources.get(document_key(uri))

    def mark(self) -> int:
        return self._last_seq

    def published(self, uri: str, source: str) -> Published | None:
        return self._by_uri.get(document_key(uri), {}).get(source)

    def has(self, uri: str, sources: Sequence[str] | None = None) -> bool:
        per_source = self._by_uri.get(document_key(uri), {})
        return any(sources is None or s in sources for s in per_source)

    def current(self, uri: str, sources: Sequence[str] | None = None) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for source, published in self._by_uri.get(document_key(uri), {}).items():
            if sources is None or source in sources:
                out.extend(published.diagnostics)
        return sorted(out, key=lambda d: (d.line, d.character, d.severity))

    def _ready(
        self, uri: str, sources: Sequence[str] | None, version: int | None, after: int
    ) -> bool:
        per_source = self._by_uri.get(uri, {})

        def fresh(published: Published | None) -> bool:
            if published is None or published.seq <= after:
                return False
            return version is None or published.version is None or published.version >= version

        if sources:
            return all(fresh(per_source.get(source)) for source in sources)
        return any(fresh(published) for published in per_source.values())

    async def wait(
        self,
        uri: str,
        *,
        sources: Sequence[str] | None,
        version: int | None,
        after: int,
        wait_s: float,
    ) -> bool:
        """True once every source (any one, when they are unknown) has published for `version`
        or later, after the mark `after`; False when `wait_s` seconds passed first."""
        uri = document_key(uri)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait_s)
        while not self._ready(uri, sources, version, after):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            tick = self._tick
            try:
                await asyncio.wait_for(tick.wait(), remaining)
            except TimeoutError:
                return False
        return True


@dataclass(frozen=True)
class Delta:
    new: list[Diagnostic]
    fixed: list[Diagnostic]


def errors_delta(before: Sequence[Diagnostic], after: Sequence[Diagnostic]) -> Delta:
    """The errors `after` has beyond `before` and the ones it lost, counted as multisets."""
    before_errors = [d for d in before if d.severity == ERROR]
    after_errors = [d for d in after if d.severity == ERROR]
    before_count = Counter(d.key for d in before_errors)
    after_count = Counter(d.key for d in after_errors)
    new: list[Diagnostic] = []
    seen: Counter[tuple[int, str | None, str | None, str]] = Counter()
    for diag in after_errors:
        seen[diag.key] += 1
        if seen[diag.key] > before_count[diag.key]:
            new.append(diag)
    fixed: list[Diagnostic] = []
    seen.clear()
    for diag in before_errors:
        seen[diag.key] += 1
        if seen[diag.key] > after_count[diag.key]:
            fixed.append(diag)
    return Delta(new, fixed)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
