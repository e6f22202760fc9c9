"""Session records on disk: ids, folder keys, headers, and the redacting JSONL encoding."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from claw_lsp.foundation.secrets import REDACTED, redact

FORMAT_VERSION = 1
TITLE_MAX_CHARS = 80
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
# Dict keys whose string values are credentials even when the value alone matches no pattern.
_SECRET_KEY = re.compile(r"(?i)api[_-]?key|apikey|access[_-]?token|secret|password|authorization")


def validate_session_id(session_id: str) -> str:
    """Ids from outside name files: reject anything that could leave the sessions folder."""
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.match(session_id):
        raise ValueError("invalid session id")
    if session_id in (".", ".."):
        raise ValueError("invalid session id")
    return session_id


def new_session_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def canonical_folder(folder_uri: str, canonical_path: Path | None = None) -> str | None:
    """The real path of a file: folder (what the key hashes), or None for other URI schemes."""
    try:
        if canonical_path is not None:
            return os.path.realpath(canonical_path)
        parsed = urlparse(folder_uri)
        if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            return os.path.realpath(unquote(parsed.path))
    except ValueError:  # e.g. an encoded NUL byte
        pass
    return None


def folder_key(folder_uri: str, canonical_path: Path | None = None) -> str:
    canonical = canonical_folder(folder_uri, canonical_path)
    identity = canonical if canonical is not None else folder_uri
    base = PurePosixPath(canonical or unquote(urlparse(folder_uri).path)).name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:40] or "folder"
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{slug}-{digest}"


def timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def header_record(session_id: str, folder_uri: str, title: str = "") -> dict[str, Any]:
    header = {"type": "header", "version": FORMAT_VERSION, "id": session_id}
    return header | {"folderUri": folder_uri, "created": timestamp(), "title": title}


def _scrub(value: Any) -> Any:
    """Redact every string before serialising, so JSON escaping cannot hide a secret."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED
            if isinstance(v, str) and v and _SECRET_KEY.search(str(k))
            else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _json_line(scrubbed: Any, *, ensure_ascii: bool) -> str:
    line = json.dumps(scrubbed, ensure_ascii=ensure_ascii, default=str)
    redacted = redact(line)
    if redacted != line:
        try:
            json.loads(redacted)
            line = redacted
        except ValueError:
            pass  # the redaction cut through an escape; values were already scrubbed one by one
    return line + "\n"


def encode_record(record: Mapping[str, Any]) -> bytes:
    scrubbed = _scrub(record)
    try:
        return _json_line(scrubbed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: let JSON escape them
        return _json_line(scrubbed, ensure_ascii=True).encode("ascii")


def parse_record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        return None
    if record["type"] == "header" and record.get("version") != FORMAT_VERSION:
        return None
    return record


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def first_user_text(record: Mapping[str, Any]) -> str | None:
    message = record.get("message")
    if record.get("type") != "message" or not isinstance(message, dict):
        return None
    content = message.get("content") if message.get("role") == "user" else None
    if isinstance(content, list):
        content = " ".join(
            str(p.get("text")) for p in content if isinstance(p, dict) and p.get("text")
        )
    return content if isinstance(content, str) else None


def make_title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return redact(first_line)[:TITLE_MAX_CHARS].rstrip()


# The store's value types (defined here to keep sessions/store.py within its size).
class SessionNotFoundError(ValueError):
    pass


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str
    created: str
    updated: str
    turns: int
    forked_from: str | None = None


@dataclass
class LoadedSession:
    header: dict[str, Any]
    records: list[dict[str, Any]]
    skipped: int  # torn, invalid or unknown-version lines
