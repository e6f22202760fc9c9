"""The server's copy of a buffer between an applied edit and the client's `didChange`.

A client that answers `workspace/applyEdit` with `applied: true` has the new text, but may
report it much later: eglot sends `didChange` only after 0.5 s of idle time, and Emacs never
idles while it waits for a request. So the server does not wait for the report: it takes the
edit as applied, shows the expected text to the next tool (with a guessed next version), and
checks the `didChange` against the expected text when it comes. pygls keeps what the client
reported (its document); an Overlay is what we expect on top of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Overlay:
    expected: list[str] = field(default_factory=list)  # texts of applied, unreported edits
    version: int = 0  # our guess of the client's version after them


@dataclass(frozen=True)
class DocView:
    """A buffer as the agent should see it: the client's report plus our applied edits."""

    uri: str
    source: str
    version: int | None
    language_id: str | None
    pending: bool  # an applied edit the client has not reported yet


class Overlays:
    def __init__(self) -> None:
        self._by_uri: dict[str, Overlay] = {}
        self.mismatches: list[str] = []  # uris whose didChange did not show the expected text

    def view(self, doc: Any) -> DocView:
        overlay = self._by_uri.get(doc.uri)
        if overlay is None or not overlay.expected:
            return DocView(doc.uri, doc.source, doc.version, doc.language_id, False)
        return DocView(doc.uri, overlay.expected[-1], overlay.version, doc.language_id, True)

    def pending(self, uri: str) -> bool:
        overlay = self._by_uri.get(uri)
        return bool(overlay and overlay.expected)

    def applied(self, doc: Any, after: str) -> None:
        """The client said `applied: true`: from now on we expect `after`, one version on."""
        current = self.view(doc)
        overlay = self._by_uri.setdefault(doc.uri, Overlay())
        overlay.expected.append(after)
        overlay.version = (current.version or 0) + 1

    def reconcile(self, doc: Any) -> bool | None:
        """After pygls applied a `didChange` to its document: True when it shows an expected
        text (the edits up to it are confirmed), False on a real mismatch (the client's text
        wins; the overlay is dropped), None when nothing was pending."""
        overlay = self._by_uri.get(doc.uri)
        if overlay is None or not overlay.expected:
            return None
        if doc.source in overlay.expected:
            reached = len(overlay.expected) - 1 - overlay.expected[::-1].index(doc.source)
            del overlay.expected[: reached + 1]
            overlay.version = (doc.version or 0) + len(overlay.expected)
            if not overlay.expected:
                del self._by_uri[doc.uri]
            return True
        # The user typed or undid before the client reported our edit, or the client applied it
        # differently: its text is the truth from here on.
        log.info("the buffer %s differs from the applied edit: taking the client's text", doc.uri)
        self.mismatches.append(doc.uri)
        del self._by_uri[doc.uri]
        return False

    def drop(self, uri: str) -> None:
        self._by_uri.pop(uri, None)
