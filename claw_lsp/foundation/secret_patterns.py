"""Secrets recognised by their content: private key blocks, provider token shapes, credentials
in URLs, `Authorization:` and bearer values, values assigned to credential-like names.

Speed matters (every tool result, event and record passes here). Python's regex engine is slow
on alternations that can start almost anywhere, but fast when a pattern begins with a literal
(it searches for the literal first). So each shape is a small regex that begins with a literal,
run on an ASCII-lower-cased copy of the text (same length, same offsets); a hit is then checked
against the case-sensitive shape on the original text, overlapping hits keep the earliest one,
and the text is rebuilt once. Text may be plain or JSON-encoded (newlines as `\\n`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

# A line break in plain text or inside a JSON string.
_EOL = r"(?:\r?\n|(?:\\r)?\\n)"
_EOL_AHEAD = r"(?=\r?\n|(?:\\r)?\\n|$|[\"\\])"
# What may precede a key's base64 line: a read_file line number, a grep `path:12:` prefix.
_LINE_PREFIX = r"(?:[^\n\"\\]|\\t){0,160}?"
# A blank line inside a key (after its headers), as read_file (`     5\t`) or grep (`f:5:`)
# shows it.
_BLANK_ROW = r"(?:[ \t]*\d+(?:\t|\\t)|[^\n\"\\]{1,160}?[:-]\d+[:-]|[+ -])?"
_PEM_BODY = (
    rf"(?:{_EOL}(?:{_LINE_PREFIX}[a-z0-9+/=]{{16,}}|{_LINE_PREFIX}"
    rf"(?:proc-type|dek-info|comment):[^\n\"\\]*|{_BLANK_ROW})[ \t\r]*{_EOL_AHEAD})*"
    rf"(?:{_EOL}{_LINE_PREFIX}-----end[ a-z0-9]{{0,40}}private key(?: block)?-----)?"
)
# Provider token shapes, case-sensitive. Each begins with a literal, and its source lower-cased
# is the shape searched for in the lower-cased text (so no \\D, \\S, \\W in them).
# Lengths are lower bounds, so test and truncated tokens are caught too.
TOKEN_SHAPES: tuple[str, ...] = (
    r"gh[pousr]_[A-Za-z0-9_]{16,}",  # GitHub classic, OAuth, user, server, refresh
    r"github_pat_[A-Za-z0-9_]{20,}",  # GitHub fine-grained
    r"gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent|oas)-[A-Za-z0-9_-]{16,}",  # GitLab
    r"AKIA[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS access key id
    r"ASIA[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS temporary access key id
    r"ABIA[A-Z0-9]{16}(?![A-Za-z0-9])",
    r"ACCA[A-Z0-9]{16}(?![A-Za-z0-9])",
    r"xox[abeoprs]-[A-Za-z0-9-]{8,}",  # Slack
    r"xapp-\d-[A-Za-z0-9-]{10,}",  # Slack app-level
    r"sk-[A-Za-z0-9_-]{8,}",  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), proxies
    r"sk_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe secret
    r"rk_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe restricted
    r"AIza[0-9A-Za-z_-]{30,}",  # Google API key
    r"ya29\.[0-9A-Za-z_-]{20,}",  # Google OAuth access token
    r"npm_[A-Za-z0-9]{30,}",  # npm
    r"pypi-AgE[A-Za-z0-9_-]{30,}",  # PyPI
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",  # SendGrid
    r"dop_v1_[a-f0-9]{32,}",  # DigitalOcean
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",  # Shopify
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
)
# Names whose assigned value is a credential. "key" only in compounds (`api_key`, not `key`).
_KEY_PREFIXES = ("secret", "private", "access", "api", "auth", "client", "session", "app")
_ASSIGN = r"[\"']?[ \t]*[:=][ \t]*"
_VALUE = (
    r"(?:(?P<quote>[\"'])(?P<quoted>[^\"'\n\\]{1,500})(?P=quote)"
    r"|(?P<bare>[^\s\"'`,;}&\\<>()\[\]]{3,}))"
)
_PLAIN_LOGIN = re.compile(r"[a-z][a-z0-9._-]{0,23}")
# An unquoted value that reads like code (`password=password`, `token: str`,
# `api_key=settings.api_key`) rather than like a secret (which has digits or symbols).
_CODE_LIKE = re.compile(r"[A-Za-z_][A-Za-z_.]{0,23}")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")

Masker = Callable[[re.Match[str], str], str | None]


class _Shape:
    def __init__(
        self,
        source: str,
        mask: Masker,
        *,
        word_start: bool = False,
        compound_key: bool = False,
        literal: str = "",
    ) -> None:
        self.source = source  # a regex on the lower-cased text
        self.mask = mask  # (match, original span) -> replacement, or None: not a secret
        self.word_start = word_start  # only where no letter, digit or _ comes before
        self.compound_key = compound_key  # `key` only after api_, secret_ ... (`api_key`)
        # Text every match contains: when the text lacks it, the regex is not even run.
        self.literal = literal or _leading_literal(source)
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        # Compiled on first use: some forty patterns would cost start-up time.
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled


def _leading_literal(source: str) -> str:
    literal = ""
    for char in source:
        if char in "[(\\.?*+{|^$":
            break
        literal += char
    assert literal, source
    return literal


def _keep_group(name: str) -> Masker:
    """Keep the text up to group `name`'s end as is; mask the rest of the match."""

    def mask(match: re.Match[str], original: str) -> str:
        return original[: match.end(name) - match.start()] + REDACTED

    return mask


def _pem(match: re.Match[str], original: str) -> str:
    return original[: match.end("begin") - match.start()] + " " + REDACTED


def _ssh_body(match: re.Match[str], original: str) -> str | None:
    return REDACTED if original.startswith("b3BlbnNzaC1rZXktdjE") else None


def _token(source: str) -> Masker:
    compiled: list[re.Pattern[str]] = []

    def mask(match: re.Match[str], original: str) -> str | None:
        if not compiled:
            compiled.append(re.compile(source))
        found = compiled[0].match(original)
        return REDACTED + original[found.end() :] if found else None

    return mask


def _url(match: re.Match[str], original: str) -> str:
    user = original[match.start("user") - match.start() : match.end("user") - match.start()]
    shown = user if not user or _PLAIN_LOGIN.fullmatch(user) else REDACTED
    password = f":{REDACTED}" if match.group("password") is not None else ""
    return f"://{shown}{password}@"


def _assignment(match: re.Match[str], original: str) -> str | None:
    name_end = match.end("name") - match.start()
    bare = match.group("bare")
    if bare is not None:
        value = original[name_end:]
        return None if _CODE_LIKE.fullmatch(value) else original[:name_end] + REDACTED
    quote = match.group("quote")
    return f"{original[:name_end]}{quote}{REDACTED}{quote}"


def _compound_key(text_before: str) -> bool:
    return text_before.rstrip("_-").endswith(_KEY_PREFIXES)


def _shapes() -> list[_Shape]:
    shapes = [
        _Shape(
            # (a block masked before keeps its one marker: redacting twice changes nothing)
            r"(?P<begin>-----begin[ a-z0-9]{0,40}private key(?: block)?-----)"
            r"(?: \[redacted\])?" + _PEM_BODY,
            _pem,
            literal="-----begin",
        ),
        _Shape(r"b3blbnnzac1rzxktdje[a-z0-9+/=]{8,}", _ssh_body),
        _Shape(
            r"://(?P<user>[^\s/@:\"'<>\\]{0,200})(?::(?P<password>[^\s/@\"'<>\\]{0,400}))?@",
            _url,
            literal="://",
        ),
        _Shape(
            r"(?P<name>[?&;][a-z0-9_.-]{0,40}?"
            r"(?:key|token|secret|password|passwd|pwd|signature|sig|credential|auth)=)"
            r"[^&#\s\"'<>\\]{3,}",
            _keep_group("name"),
            literal="=",
        ),
        _Shape(
            r"(?P<name>authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
            r"(?:(?:bearer|basic|token|digest|apikey)[ \t]+)?)[^\s\"',}\\]{4,}",
            _keep_group("name"),
            literal="authorization",
        ),
        _Shape(r"(?P<name>bearer[ \t]+)[a-z0-9._~+/=-]{8,}", _keep_group("name"), literal="bearer"),
        _Shape(
            r"(?P<name>machine[ \t]+\S+[ \t]+(?:login[ \t]+\S+[ \t]+)?password[ \t]+)\S+",
            _keep_group("name"),
            literal="machine",
        ),
    ]
    for word, literal in (
        ("passw(?:or)?d", "passw"),
        ("pwd", "pwd"),
        ("secret", "secret"),
        ("token", "token"),
        ("credentials?", "credential"),
        ("key", "key"),
    ):
        source = f"(?P<name>{word}{_ASSIGN}){_VALUE}"
        shapes.append(_Shape(source, _assignment, compound_key=word == "key", literal=literal))
    for shape in TOKEN_SHAPES:
        shapes.append(_Shape(shape.lower(), _token(shape), word_start=True))
    return shapes


_SHAPES = _shapes()
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def mask_content(text: str) -> str:
    """`text` with every secret recognised by its content replaced by [REDACTED]."""
    # str.lower() can change the length outside ASCII; the translation never does.
    lower = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
    hits: list[tuple[int, int, str]] = []
    for shape in _SHAPES:
        if shape.literal not in lower:
            continue
        for match in shape.pattern.finditer(lower):
            start, end = match.span()
            if shape.compound_key and not _compound_key(lower[max(0, start - 12) : start]):
                continue
            if shape.word_start and start and _WORD_CHAR.match(text, start - 1):
                continue  # inside a longer word: `task-management` is not `sk-...`
            replacement = shape.mask(match, text[start:end])
            if replacement is not None:
                hits.append((start, end, replacement))
    if not hits:
        return text
    hits.sort(key=lambda hit: (hit[0], -hit[1]))
    out: list[str] = []
    kept = 0
    for start, end, replacement in hits:
        if start < kept:
            continue  # inside a secret already masked
        out.append(text[kept:start])
        out.append(replacement)
        kept = end
    out.append(text[kept:])
    return "".join(out)
