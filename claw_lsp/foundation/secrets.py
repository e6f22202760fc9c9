"""Redaction of secrets from anything that leaves the process (logs, events, errors, files)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s\"',}]+"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|apikey|access[_-]?token|secret|password)\s*[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+"
    ),
]
REDACTED = "[REDACTED]"

_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a configured secret (e.g. the API key) so redact() removes it verbatim too."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    for secret in (*_known_secrets, *extra):
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


# ![alt](http://host/...?q=<secret>) makes a markdown renderer fetch the URL by itself: a
# prompt-injected model can exfiltrate through it without any tool call (PI-08).
_REMOTE_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\(\s*<?(?:[a-z][a-z0-9+.-]*:)?//[^)\n]*\)", re.I)
_REMOTE_IMAGE_REF = re.compile(
    r"^\s{0,3}\[([^\]\n]{1,200})\]:\s*<?(?:[a-z][a-z0-9+.-]*:)?//\S+", re.I | re.M
)
_HTML_IMAGE = re.compile(r"<\s*(img|image|iframe|video|audio|source|link)\b[^>]*>", re.I)


def neutralize_markdown(text: str) -> str:
    """Remote images (inline, reference-style and HTML) become inert text; links stay links,
    since a link needs a user's click."""
    text = _REMOTE_IMAGE.sub(lambda m: f"[remote image removed: {m.group(1)}]", text)
    text = _REMOTE_IMAGE_REF.sub(lambda m: f"[{m.group(1)}]: (remote reference removed)", text)
    return _HTML_IMAGE.sub("[remote content removed]", text)
