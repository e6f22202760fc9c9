"""Per-folder session history: append-only JSONL files plus an atomically replaced index.

Layout: `<state_dir>/folders/<folder key>/sessions/<id>.jsonl` and `.../index.json`.
Storage failures never escape `append`: history is a convenience, the agent must keep working.
Record encoding lives in records.py, the index file in index.py.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from claw_lsp.sessions.durability import UnsyncedFiles
from claw_lsp.sessions.index import (
    TEMP_PREFIX,
    add_entry,
    index_entry,
    index_lock,
    read_index,
    set_current_entry,
    write_atomic,
)
from claw_lsp.sessions.records import (
    SESSION_ID_PATTERN,
    LoadedSession,
    SessionInfo,
    SessionNotFoundError,
    canonical_folder,
    encode_record,
    first_user_text,
    folder_key,
    fsync_dir,
    header_record,
    make_title,
    new_session_id,
    parse_record,
    timestamp,
    validate_session_id,
    write_all,
)

__all__ = [
    "LoadedSession",
    "SessionInfo",
    "SessionNotFoundError",
    "SessionStore",
    "folder_key",
    "make_title",
    "validate_session_id",
]


# Records written at every agent step: they do not touch index.json (see `append`).
PER_STEP_RECORD_TYPES = frozenset({"message", "subagent"})  # subagent: issue 18
_NOT_LISTED = object()


class SessionStore:
    def __init__(self, state_dir: Path, *, on_warning: Callable[[str], None] = lambda m: None):
        self._state_dir = Path(state_dir)
        self._on_warning = on_warning
        self._storage_failing = False
        # Memoised per URI so a folder renamed or deleted mid-session keeps writing to the
        # same place (SF-12) instead of re-resolving to a new key.
        self._folders: dict[str, tuple[Path, str | None]] = {}
        # Headers the disk refused; each goes out with its session's first successful append.
        self._pending_headers: dict[Path, dict[str, Any]] = {}
        # Per session file, the turn whose first record last updated the index.
        self._listed_turns: dict[Path, object] = {}
        self._unsynced = UnsyncedFiles()  # append(durable=False): one sync per step, issue 22

    def _folder(self, folder_uri: str, canonical_path: Path | None = None) -> Path:
        if folder_uri not in self._folders or canonical_path is not None:
            key = folder_key(folder_uri, canonical_path)
            canonical = canonical_folder(folder_uri, canonical_path)
            self._folders[folder_uri] = (self._state_dir / "folders" / key, canonical)
        return self._folders[folder_uri][0]

    def session_path(self, folder_uri: str, session_id: str) -> Path:
        name = f"{validate_session_id(session_id)}.jsonl"
        return self._folder(folder_uri) / "sessions" / name

    def _ensure_dirs(self, folder_dir: Path) -> None:
        if not self._state_dir.is_dir():
            # Only a state dir we create is ours to chmod (CLAW_STATE_DIR may point anywhere).
            self._state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self._state_dir, 0o700)
        for directory in (folder_dir.parent, folder_dir, folder_dir / "sessions"):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:
                continue
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask

    def _guarded(self, action: Callable[[], object], *, proves_recovery: bool = False) -> bool:
        """Run a storage action; an OSError becomes one visible warning, never an exception."""
        try:
            action()
        except OSError as error:
            self._report_failure(error)
            return False
        # Only a session file written again means history is saved again (not an index write).
        if proves_recovery and self._storage_failing:
            self._storage_failing = False
            self._on_warning("history is being saved again")
        return True

    def _report_failure(self, error: OSError) -> None:
        if not self._storage_failing:
            self._storage_failing = True
            reason = error.strerror or type(error).__name__
            self._on_warning(f"history not being saved: {reason}")

    def _write_lines(
        self, path: Path, payload: bytes, header_if_new: Mapping[str, Any], durable: bool = True
    ) -> None:
        """One write (+ fsync) under an exclusive flock, so two servers never interleave lines."""
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:  # first write, or the directories were removed meanwhile
            self._ensure_dirs(path.parent.parent)
            fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            prefix = b""
            if size == 0:
                prefix = encode_record(header_if_new)
            elif os.pread(fd, 1, size - 1) != b"\n":
                prefix = b"\n"  # keep a torn line left by a crash apart from the new records
            try:
                write_all(fd, prefix + payload)
                if durable:
                    os.fsync(fd)
            except OSError:
                with suppress(OSError):  # leave no half-written record behind (SF-03)
                    os.ftruncate(fd, size)
                raise
            if size == 0:
                fsync_dir(path.parent)
        finally:
            os.close(fd)  # also releases the flock
        self._pending_headers.pop(path, None)
        self._unsynced.written(path, durable)

    def create(
        self, folder_uri: str, *, title: str = "", canonical_path: Path | None = None
    ) -> str:
        folder_dir = self._folder(folder_uri, canonical_path)
        session_id = new_session_id()
        while (folder_dir / "sessions" / f"{session_id}.jsonl").exists():
            session_id = new_session_id()
        path = self.session_path(folder_uri, session_id)
        header = header_record(session_id, folder_uri, make_title(title))
        self._pending_headers[path] = header

        def write() -> None:
            self._write_lines(path, b"", header)
            self._update_index(folder_uri, add_entry(session_id, header, turns=0))

        self._guarded(write, proves_recovery=True)
        return session_id

    def append(
        self,
        folder_uri: str,
        session_id: str,
        records: Sequence[Mapping[str, Any]],
        *,
        durable: bool = True,
    ) -> bool:
        """Never raises on storage errors: False plus one warning while the disk refuses.
        durable=False: no fsync until `sync` (the agent loop's steps, sessions/durability.py)."""
        path = self.session_path(folder_uri, session_id)
        if not all(isinstance(r, Mapping) and isinstance(r.get("type"), str) for r in records):
            raise ValueError("a session record needs a string 'type'")
        if not records:
            return True
        payload = b"".join(encode_record(record) for record in records)
        new_turns = sum(1 for record in records if record["type"] == "turn")
        header = self._pending_headers.get(path) or header_record(session_id, folder_uri)

        def update(index: dict[str, Any]) -> None:
            entry = index["sessions"].setdefault(session_id, index_entry(header))
            entry["updated"] = timestamp()
            entry["turns"] = int(entry.get("turns") or 0) + new_turns

        if not self._guarded(
            partial(self._write_lines, path, payload, header, durable), proves_recovery=True
        ):
            return False
        # The index serves listings only (and can be rebuilt from the files), so the per-step
        # message records skip its rewrite and its two fsyncs (issue 9): the first record of
        # a turn moves the session up the listing, the turn record at its end (or any rarer
        # record) brings the counts up to date.
        turn = records[-1].get("turn")
        per_step = all(record["type"] in PER_STEP_RECORD_TYPES for record in records)
        listed = per_step and self._listed_turns.get(path, _NOT_LISTED) == turn
        # The records are on disk even if the index update fails; only listings suffer.
        if not listed and self._guarded(lambda: self._update_index(folder_uri, update)):
            self._listed_turns[path] = turn
        return True

    async def sync(self, folder_uri: str, session_id: str) -> bool:
        """fsync what append(durable=False) wrote; False plus the warning if the disk refuses."""
        error = await self._unsynced.sync(self.session_path(folder_uri, session_id))
        if error is not None:
            self._report_failure(error)
        return error is None

    def load(self, folder_uri: str, session_id: str) -> LoadedSession | None:
        """None if there is no such session; bad lines are skipped and counted, never raised."""
        try:
            data = self.session_path(folder_uri, session_id).read_bytes()
        except OSError:
            return None
        header: dict[str, Any] | None = None
        records: list[dict[str, Any]] = []
        skipped = 0
        for raw in data.split(b"\n"):
            record = parse_record(raw) if raw.strip() else {}
            if record is None:
                skipped += 1
            elif not record:
                continue
            elif record["type"] != "header":
                records.append(record)
            elif header is None and not records:
                header = record
            else:
                skipped += 1  # a second header is not something we wrote
        if header is None:
            header = header_record(session_id, folder_uri) | {"created": ""}
        if not header.get("title"):
            # The title is set after the header is written (first prompt): it lives in the index.
            entry = (read_index(self._folder(folder_uri)) or {}).get("sessions", {})
            title = (entry.get(session_id) or {}).get("title")
            header = header | ({"title": title} if isinstance(title, str) and title else {})
        return LoadedSession(header=header, records=records, skipped=skipped)

    def fork(self, folder_uri: str, session_id: str, upto_turn: int | None = None) -> str:
        """Copy a session (up to a turn) into a new current one; raises OSError if it can't."""
        source = self.load(folder_uri, session_id)
        if source is None:
            raise SessionNotFoundError("no such session")
        copied: list[dict[str, Any]] = []
        past_cutoff = False
        last_turn = 0
        for record in source.records:
            turn = record.get("turn")
            if isinstance(turn, int) and not isinstance(turn, bool):
                past_cutoff = upto_turn is not None and turn > upto_turn
                last_turn = last_turn if past_cutoff else max(last_turn, turn)
            if not past_cutoff:
                copied.append(record)
        new_id = new_session_id()
        header = header_record(new_id, folder_uri, str(source.header.get("title") or ""))
        cut = upto_turn if upto_turn is not None else last_turn
        header["forkedFrom"] = {"session": session_id, "turn": cut}
        turns = sum(1 for record in copied if record["type"] == "turn")
        path = self.session_path(folder_uri, new_id)
        try:
            self._write_lines(path, b"".join(map(encode_record, copied)), header)
            self._update_index(folder_uri, add_entry(new_id, header, turns=turns))
        except OSError as error:
            self._report_failure(error)
            raise
        return new_id

    def delete(self, folder_uri: str, session_id: str) -> bool:
        path = self.session_path(folder_uri, session_id)
        existed = path.exists()

        def update(index: dict[str, Any]) -> None:
            index["sessions"].pop(session_id, None)
            if index.get("current") == session_id:
                index["current"] = None

        def remove() -> None:
            path.unlink(missing_ok=True)
            self._update_index(folder_uri, update)

        return self._guarded(remove) and existed

    def set_title(
        self, folder_uri: str, session_id: str, title: str, *, only_if_empty: bool = True
    ) -> None:
        """Title = first line of the (first) prompt, redacted, at most 80 characters."""
        validate_session_id(session_id)
        clean = make_title(title)

        def update(index: dict[str, Any]) -> None:
            entry = index["sessions"].get(session_id)
            if entry is not None and (not only_if_empty or not entry.get("title")):
                entry["title"] = clean

        self._guarded(lambda: self._update_index(folder_uri, update))

    def set_current(self, folder_uri: str, session_id: str) -> None:
        path = self.session_path(folder_uri, session_id)
        # A session whose header the disk refused so far still exists for this process.
        if not path.exists() and path not in self._pending_headers:
            raise SessionNotFoundError("no such session")
        self._guarded(lambda: self._update_index(folder_uri, set_current_entry(session_id)))

    def current(self, folder_uri: str) -> str | None:
        session_id = self._read_or_rebuild(folder_uri).get("current")
        if isinstance(session_id, str) and self.session_path(folder_uri, session_id).exists():
            return session_id
        return None

    def list(self, folder_uri: str) -> list[SessionInfo]:
        """Newest first; reads only index.json unless it has to be rebuilt."""
        infos = []
        for session_id, entry in self._read_or_rebuild(folder_uri).get("sessions", {}).items():
            forked = entry.get("forkedFrom")
            infos.append(
                SessionInfo(
                    id=session_id,
                    title=str(entry.get("title") or ""),
                    created=str(entry.get("created") or ""),
                    updated=str(entry.get("updated") or entry.get("created") or ""),
                    turns=int(entry.get("turns") or 0),
                    forked_from=forked if isinstance(forked, str) else None,
                )
            )
        return sorted(infos, key=lambda info: (info.updated, info.id), reverse=True)

    def cleanup_temp_files(self) -> None:
        """Remove temp files a crash left behind (SF-02); called at start."""
        with suppress(OSError):
            folder_dirs = [p for p in (self._state_dir / "folders").iterdir() if p.is_dir()]
            for folder_dir in folder_dirs:
                stale = [p for p in folder_dir.iterdir() if p.name.startswith(TEMP_PREFIX)]
                if stale:
                    # Temp files are only written under index.lock; holding it means none is live.
                    with index_lock(folder_dir):
                        for path in stale:
                            path.unlink(missing_ok=True)

    def _update_index(self, folder_uri: str, mutate: Callable[[dict[str, Any]], None]) -> None:
        """Read-modify-write under index.lock so two servers never lose each other's updates."""
        folder_dir = self._folder(folder_uri)
        self._ensure_dirs(folder_dir)
        with index_lock(folder_dir):
            index = read_index(folder_dir) or self._rebuild_index(folder_uri)
            mutate(index)
            write_atomic(folder_dir / "index.json", json.dumps(index, indent=1).encode())

    def _read_or_rebuild(self, folder_uri: str) -> dict[str, Any]:
        folder_dir = self._folder(folder_uri)
        if not folder_dir.is_dir():
            return {}
        index = read_index(folder_dir)
        if index is None:
            try:
                self._update_index(folder_uri, lambda index: None)
                index = read_index(folder_dir)
            except OSError:
                pass
        return index or self._rebuild_index(folder_uri)

    def _rebuild_index(self, folder_uri: str) -> dict[str, Any]:
        """Reconstruct the index from the session files when index.json is missing or corrupt."""
        folder_dir = self._folder(folder_uri)
        sessions: dict[str, Any] = {}
        for path in sorted((folder_dir / "sessions").glob("*.jsonl")):
            if not SESSION_ID_PATTERN.match(path.stem):
                continue
            loaded = self.load(folder_uri, path.stem)
            if loaded is None:
                continue
            entry = sessions[path.stem] = index_entry(loaded.header)
            if not entry["title"]:
                entry["title"] = make_title(
                    next(filter(None, map(first_user_text, loaded.records)), "")
                )
            entry["turns"] = sum(1 for record in loaded.records if record["type"] == "turn")
            with suppress(OSError):
                entry["updated"] = timestamp(datetime.fromtimestamp(path.stat().st_mtime, UTC))
        canonical = self._folders[folder_uri][1]
        identity = {"folderUri": folder_uri, "canonicalPath": canonical}
        return identity | {"current": None, "sessions": sessions}
