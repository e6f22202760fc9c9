"""Redaction of secrets from anything that leaves the process: what the model is sent, what the
editor and the terminal are shown, logs and session files.

Two kinds of secret are caught (docs/security.md lists what is and is not):
- by content, in one compiled regex pass: private key blocks, provider token shapes, credentials
  inside URLs, `Authorization:` / bearer values, and values assigned to credential-like names;
- known values (the configured API key, passwords and keys inside configured URLs, the TCP
  launch token), registered with register_secret(): whole, reversed, upper/lower-cased, rot13,
  hex and base64 (every alignment), and any piece of one of those forms of at least
  FRAGMENT_GUARANTEED characters (so a key cut in halves by two commands is still masked).
"""

from __future__ import annotations

import base64
import codecs
import functools
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from claw_lsp.foundation.secret_patterns import REDACTED, mask_content

__all__ = [
    "FRAGMENT_GUARANTEED",
    "REDACTED",
    "display_url",
    "neutralize_markdown",
    "redact",
    "redact_message",
    "register_secret",
    "register_url_credentials",
    "secret_forms",
    "split_streamed",
]

# A known secret's pieces are looked up as windows of WINDOW characters, at every STRIDE-th
# position of a candidate run: any piece of WINDOW + STRIDE - 1 characters or more is found.
WINDOW = 8
STRIDE = 3
FRAGMENT_GUARANTEED = WINDOW + STRIDE - 1
# Keys shorter than this are matched only as whole forms: their pieces are too short to tell
# from ordinary text.
MIN_FRAGMENT_SECRET = 2 * WINDOW
MIN_SECRET = 4


class _KnownSecrets:
    """Every registered value with its forms, and the windows of the long ones."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.forms: list[str] = []  # longest first, so a whole form wins over a shorter one
        self.windows: set[str] = set()
        self.byte_windows: set[bytes] = set()
        self.run: re.Pattern[str] | None = None  # runs of characters the forms are made of
        # Maps every byte outside the forms' alphabet to a space: bytes.split() then yields the
        # candidate runs at C speed, for the quick "is any piece here at all?" check.
        self.to_runs: bytes | None = None
        self._alphabet: set[str] = set()

    def add(self, value: str) -> None:
        if value in self.values:
            return
        self.values.add(value)
        _redacted_once.cache_clear()  # a new secret: earlier results may now be wrong
        forms = secret_forms(value)
        self.forms = sorted(set(self.forms) | set(forms), key=len, reverse=True)
        if len(value) < MIN_FRAGMENT_SECRET:
            return
        hex_length = 2 * len(value.encode("utf-8", "surrogatepass"))
        for form in forms:
            hex_form = len(form) == hex_length and all(c in string.hexdigits for c in form)
            for start in range(len(form) - WINDOW + 1):
                window = form[start : start + WINDOW]
                if _distinctive(window, hex_form=hex_form):
                    self.windows.add(window)
            self._alphabet.update(form)
        ascii_alphabet = {c for c in self._alphabet if c.isascii()}
        self.byte_windows = {w.encode() for w in self.windows if w.isascii()}
        self.to_runs = bytes(c if chr(c) in ascii_alphabet else 0x20 for c in range(256))
        klass = "".join(sorted(re.escape(c) for c in self._alphabet))
        self.run = re.compile(f"[{klass}]{{{WINDOW},}}")

    def mask(self, text: str, extra: Iterable[str]) -> str:
        for form in (*self.forms, *(e for e in extra if e)):
            if form in text:
                text = text.replace(form, REDACTED)
        if self.run is None or not self.windows or not self._any_piece(text):
            return text
        return self._mask_fragments(text)

    def _any_piece(self, text: str) -> bool:
        """Cheap and exact for ASCII forms: could _mask_fragments find anything?"""
        if len(self.byte_windows) < len(self.windows):
            return True  # a form with non-ASCII characters: take the slow path every time
        assert self.to_runs is not None
        windows = self.byte_windows
        runs = text.encode("utf-8", "surrogatepass").translate(self.to_runs).split()
        for run in [run for run in runs if len(run) >= WINDOW]:
            for position in range(0, len(run) - WINDOW + 1, STRIDE):
                if run[position : position + WINDOW] in windows:
                    return True
        return False

    def _mask_fragments(self, text: str) -> str:
        assert self.run is not None
        windows = self.windows
        cuts: list[tuple[int, int]] = []
        for run in self.run.finditer(text):
            chunk = run.group()
            last = len(chunk) - WINDOW
            position = floor = 0
            while position <= last:
                if chunk[position : position + WINDOW] in windows:
                    start, end = self._widen(chunk, position, floor)
                    cuts.append((run.start() + start, run.start() + end))
                    floor = end
                    position = end
                else:
                    position += STRIDE
        if not cuts:
            return text
        out, kept = [], 0
        for start, end in cuts:
            out.append(text[kept:start])
            out.append(REDACTED)
            kept = end
        out.append(text[kept:])
        return "".join(out)

    def _widen(self, chunk: str, position: int, floor: int) -> tuple[int, int]:
        """The longest piece of a form around a window found at `position`, not reaching
        back before `floor` (the end of the piece masked before it)."""
        start, end = position, position + WINDOW
        while end < len(chunk) and self._is_piece(chunk[start : end + 1]):
            end += 1
        while start > floor and self._is_piece(chunk[start - 1 : end]):
            start -= 1
        return start, end

    def _is_piece(self, piece: str) -> bool:
        return any(piece in form for form in self.forms)


def _distinctive(window: str, *, hex_form: bool) -> bool:
    """Windows that could be ordinary text (a number, a run of one character) are not looked
    for; a hex form is all digits often enough that its windows only need some variety."""
    if len(set(window)) < (4 if hex_form else 5):
        return False
    return hex_form or not window.isdigit()


def secret_forms(value: str) -> list[str]:
    """The spellings of `value` that redaction looks for: as is, reversed, in upper and lower
    case, rot13, percent-encoded, hex, and the part of its base64 (standard and URL-safe) that
    is the same whatever text surrounds it, at each of the three byte alignments."""
    forms = {value, value[::-1], value.lower(), value.upper(), quote(value, safe="")}
    forms.add(codecs.encode(value, "rot13"))
    raw = value.encode("utf-8", "surrogatepass")
    forms.update({raw.hex(), raw.hex().upper(), raw[::-1].hex()})
    for source in (raw, raw[::-1]):
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + source).decode("ascii")
            first = -(-8 * pad // 6)  # the first character made only of the value's bits
            last = 8 * (pad + len(source)) // 6
            core = encoded[first:last]
            forms.update({core, core.replace("+", "-").replace("/", "_")})
    return sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True)


_known = _KnownSecrets()


def register_secret(value: str | None) -> None:
    """Remember a configured secret (the API key, a URL password, a launch token) so that
    redact() masks it, whole or in pieces, in every spelling secret_forms() lists."""
    if value and len(value) >= MIN_SECRET:
        _known.add(value)


# Query parameters whose values are credentials (api keys, signatures, tokens).
_CREDENTIAL_PARAM = re.compile(
    r"(?i)(?:key|token|secret|password|passwd|pwd|signature|sig|credential|auth|session)$"
)


def register_url_credentials(url: str | None) -> None:
    """Register what a configured URL carries as credentials: the password (and a user name
    that is not a plain login name) of `user:pass@`, and the values of credential-like query
    parameters (`?key=`, `&token=`, `&sig=` ...)."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:
        return
    if password:
        register_secret(unquote(password))
        register_secret(password)
    if user and not _plain_login(user):
        register_secret(unquote(user))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if _CREDENTIAL_PARAM.search(name):
            register_secret(value)
            register_secret(quote(value, safe=""))


def _plain_login(user: str) -> bool:
    return bool(re.fullmatch(r"[a-z][a-z0-9._-]{0,23}", user))


def display_url(url: str | None) -> str | None:
    """A configured URL as it may be shown or stored: no password, no token-like user name,
    no credential-like query values."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        user, password, host = parts.username, parts.password, parts.hostname
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if user is not None or password is not None:
        login = user if user and _plain_login(user) else REDACTED
        if password is not None:
            login += ":" + REDACTED
        port = f":{parts.port}" if _has_port(parts.netloc) else ""
        shown_host = f"[{host}]" if host and ":" in host else (host or "")
        netloc = f"{login}@{shown_host}{port}"
    query = "&".join(
        f"{name}={REDACTED if _CREDENTIAL_PARAM.search(name) else value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return redact(shown)


def _has_port(netloc: str) -> bool:
    host_part = netloc.rpartition("@")[2]
    return bool(re.search(r":\d+$", host_part))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every secret this module knows about replaced by [REDACTED]."""
    if not text:
        return text
    text = _known.mask(text, extra)
    return mask_content(text)


_LAST_WORD = re.compile(r"\S{1,256}\Z")


def split_streamed(text: str) -> tuple[str, str]:
    """Streamed text as (ready to send, held back): a secret cut between two messages would pass
    redaction in each, so a last word that may go on in the next delta waits for it."""
    last = _LAST_WORD.search(text)
    return (text[: last.start()], last.group()) if last else (text, "")


# Sized for long sessions (issue 22): the whole history is looked up on every request, and an
# LRU smaller than the history evicts each text just before it is needed again.
@functools.lru_cache(maxsize=8192)
def _redacted_once(text: str) -> str:
    return redact(text)


def redact_message(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """A chat message as the model may be sent it: its text redacted. The history repeats in
    every request, so each text is redacted once (cached) and the prefix stays byte-stable."""
    content = message.get("content")
    if isinstance(content, str) and content:
        redacted = _redacted_once(content)
        return message if redacted == content else {**message, "content": redacted}
    if isinstance(content, list):
        parts = [
            {**part, "text": _redacted_once(part["text"])}
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
        return message if parts == content else {**message, "content": parts}
    return message


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


# Joins a frame's strings for one check; no secret shape spans it.
_JSON_SEPARATOR = "\n\x00\n"


def redact_json(value: Any) -> Any:
    """A JSON-shaped value (a frame or a part of one) with every string in it redacted; the
    same object when nothing needed masking (one pass over its joined text: the common case)."""
    strings: list[str] = []
    _collect_strings(value, strings)
    if not strings:
        return value
    joined = _JSON_SEPARATOR.join(strings)
    if redact(joined) == joined:
        return value
    return _map_strings(value)


def _collect_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, out)


def _map_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _map_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v) for v in value]
    return value
