from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from claw_lsp.edits.filetext import (
    TEMP_FILE_PREFIX,
    BinaryFileError,
    FileText,
    FileTooLargeError,
    NotRegularFileError,
    UnsupportedEncodingError,
    adopt_newlines,
    atomic_write,
    decode_bytes,
    encode_text,
    read_file_text,
    read_head,
    remove_stale_temp_files,
)

ONE_MIB = 1 << 20
REPO_ROOT = Path(__file__).resolve().parents[2]


def temp_files(directory: Path) -> list[str]:
    return [name for name in os.listdir(directory) if name.startswith(TEMP_FILE_PREFIX)]


def edit_one_line(path: Path, old_line: str, new_line: str) -> None:
    """What an edit tool does: read, replace, adopt newlines, encode like the original, write."""
    original = read_file_text(path, max_bytes=ONE_MIB)
    new_text = original.text.replace(old_line, adopt_newlines(new_line, original))
    atomic_write(path, encode_text(new_text, original))


# --- EC-12: CRLF, BOM, latin-1 ---------------------------------------------------------------


def test_ec12_crlf_and_bom_survive_a_one_line_edit(tmp_path: Path) -> None:
    path = tmp_path / "win.py"
    path.write_bytes(b"\xef\xbb\xbfimport os\r\nx = 1\r\nprint(x)\r\n")
    loaded = read_file_text(path, max_bytes=ONE_MIB)
    assert loaded == FileText(
        text="import os\r\nx = 1\r\nprint(x)\r\n", bom=True, newline="\r\n", size=31
    )
    edit_one_line(path, "x = 1\r\n", "x = 2\ny = 3\n")
    assert path.read_bytes() == b"\xef\xbb\xbfimport os\r\nx = 2\r\ny = 3\r\nprint(x)\r\n"


def test_ec12_latin1_file_is_refused_not_mangled(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    original = "café = 'naïve'\n".encode("latin-1")
    path.write_bytes(original)
    with pytest.raises(UnsupportedEncodingError, match=r"not UTF-8 text \(latin-1\?\); refusing"):
        read_file_text(path, max_bytes=ONE_MIB)
    assert path.read_bytes() == original


def test_utf16_text_is_refused_as_unsupported_not_binary() -> None:
    with pytest.raises(UnsupportedEncodingError, match="utf-16"):
        decode_bytes("hello\n".encode("utf-16"))


def test_encode_round_trips_exact_bytes() -> None:
    samples = [b"", b"\xef\xbb\xbf", b"a\rb\r\nc\n", b"\xef\xbb\xbf\xef\xbb\xbfx", "😀中".encode()]
    for data in samples:
        assert encode_text(decode_bytes(data).text, decode_bytes(data)) == data
    assert encode_text("x", None) == b"x"


@pytest.mark.parametrize(
    ("data", "newline"),
    [(b"a\nb\n", "\n"), (b"a\r\nb\r\nc\n", "\r\n"), (b"a\rb\r", "\r"), (b"no break", "\n")],
)
def test_dominant_newline(data: bytes, newline: str) -> None:
    assert decode_bytes(data).newline == newline


def test_adopt_newlines_uniform_files() -> None:
    crlf = decode_bytes(b"a\r\nb\r\n")
    assert adopt_newlines("x\ny\n", crlf) == "x\r\ny\r\n"
    assert adopt_newlines("x\r\ny", crlf) == "x\r\ny"  # already CRLF: untouched
    assert adopt_newlines("x\ny\n", decode_bytes(b"a\rb\r")) == "x\ry\r"
    assert adopt_newlines("x\ny\n", decode_bytes(b"a\nb\n")) == "x\ny\n"


def test_adopt_newlines_keeps_a_mixed_files_unchanged_lines() -> None:
    mixed = decode_bytes(b"one\r\ntwo\nthree\r\nfour\n")  # tie -> dominant "\n"
    rewritten = adopt_newlines("one\ntwo\nTHREE\nfour\nfive\n", mixed)
    assert rewritten == "one\r\ntwo\nTHREE\nfour\nfive\n"
    mostly_crlf = decode_bytes(b"a\r\nb\r\nc\nd\r\n")
    assert adopt_newlines("a\nb\nc\nd\nnew\n", mostly_crlf) == "a\r\nb\r\nc\nd\r\nnew\r\n"


# --- RE-02: binary sniffing ------------------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG_HEADER, "png"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 9, "elf"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),  # no NUL: caught by magic number
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"GIF89a\x10\x00\x10\x00", "gif"),
    ],
)
def test_binary_headers_are_refused_with_size_and_type(data: bytes, kind: str) -> None:
    blob = data + b"payload" * 10
    with pytest.raises(BinaryFileError) as caught:
        decode_bytes(blob)
    assert str(caught.value) == f"binary file, {len(blob)} bytes, type {kind}"


def test_real_sqlite_database_is_binary(tmp_path: Path) -> None:
    database = tmp_path / "data.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table t (x)")
    connection.close()
    with pytest.raises(BinaryFileError, match=r"type sqlite"):
        read_file_text(database, max_bytes=ONE_MIB)


def test_real_elf_binary_is_binary() -> None:
    executable = Path(sys.executable).resolve()
    size = executable.stat().st_size
    with pytest.raises(BinaryFileError, match=rf"^binary file, {size} bytes, type elf$"):
        read_file_text(executable, max_bytes=size)


def test_nul_byte_late_in_the_first_8kib_marks_binary() -> None:
    with pytest.raises(BinaryFileError, match=r"^binary file, 8001 bytes$"):
        decode_bytes(b"x" * 8000 + b"\x00")
    # Past the sniff window a NUL is valid UTF-8 and the text is kept as is.
    assert decode_bytes(b"x" * 9000 + b"\x00").text.endswith("x\x00")


def test_text_starting_like_a_label_only_magic_is_still_text() -> None:
    assert decode_bytes(b"MZ is a fine variable name\n").text.startswith("MZ")


# --- RE-01: special files and size caps ------------------------------------------------------


def run_with_hang_guard(action: Callable[[], object]) -> BaseException | None:
    """Run in a thread so that a blocking open fails the test instead of hanging the run."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            action()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(30)
    assert outcome, "reading a special file blocked"
    return outcome[0]


@pytest.mark.parametrize("reader", ["read_file_text", "read_head"])
def test_fifo_is_refused_without_blocking(tmp_path: Path, reader: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read = read_file_text if reader == "read_file_text" else read_head
    error = run_with_hang_guard(lambda: read(fifo, max_bytes=10))
    assert isinstance(error, NotRegularFileError)
    assert "FIFO" in str(error)


@pytest.mark.parametrize("via_symlink", [False, True])
def test_dev_zero_is_refused(tmp_path: Path, via_symlink: bool) -> None:
    path = Path("/dev/zero")
    if via_symlink:
        path = tmp_path / "innocent.txt"
        path.symlink_to("/dev/zero")
    with pytest.raises(NotRegularFileError, match="character device"):
        read_head(path, max_bytes=10)
    with pytest.raises(NotRegularFileError, match="character device"):
        read_file_text(path, max_bytes=10)


def test_directory_and_socket_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotRegularFileError, match="directory"):
        read_file_text(tmp_path, max_bytes=10)
    socket_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(socket_path))
        with pytest.raises(NotRegularFileError, match="socket"):
            read_head(socket_path, max_bytes=10)


@pytest.fixture(scope="module")
def fifty_mb_single_line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "bundle.min.js"
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(b"var a=1;" * (ONE_MIB // 8))
    return path


def test_read_head_caps_a_50mb_single_line_file(fifty_mb_single_line: Path) -> None:
    tracemalloc.start()
    try:
        head, size = read_head(fifty_mb_single_line, max_bytes=64 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == 50 * ONE_MIB
    assert head == b"var a=1;" * (64 * 1024 // 8)
    assert peak < 5 * ONE_MIB  # the file was not read into memory


def test_read_file_text_refuses_files_over_the_limit(fifty_mb_single_line: Path) -> None:
    with pytest.raises(FileTooLargeError) as caught:
        read_file_text(fifty_mb_single_line, max_bytes=ONE_MIB)
    expected = f"file is {50 * ONE_MIB} bytes; larger than the {ONE_MIB}-byte limit"
    assert str(caught.value) == expected


# --- SF-02: atomic writes ----------------------------------------------------------------------


def test_atomic_write_keeps_the_existing_mode(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_bytes(b"#!/bin/sh\n")
    script.chmod(0o751)
    atomic_write(script, b"#!/bin/sh\necho hi\n")
    assert script.read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert temp_files(tmp_path) == []


def test_atomic_write_modes_for_new_files(tmp_path: Path) -> None:
    atomic_write(tmp_path / "plain", b"x")
    atomic_write(tmp_path / "private", b"y", mode=0o600)
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600


def test_atomic_write_refuses_to_replace_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OSError, match="symlink"):
        atomic_write(link, b"overwritten")
    assert target.read_bytes() == b"precious"
    assert link.is_symlink()
    assert temp_files(tmp_path) == []


def test_atomic_write_failure_mid_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    # A real write failure: the file-size rlimit makes write(2) fail with EFBIG after the temp
    # file exists. Run in a child so the limit does not affect the test process.
    path = tmp_path / "index.json"
    path.write_bytes(b'{"old": true}')
    child = f"""
import resource, signal, sys
from pathlib import Path
from claw_lsp.edits.filetext import atomic_write
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    atomic_write(Path({str(path)!r}), b"x" * 100_000)
except OSError as error:
    print("OSError", error.errno)
    sys.exit(0)
sys.exit("no error raised")
"""
    result = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSError")
    assert path.read_bytes() == b'{"old": true}'
    assert temp_files(tmp_path) == []


def test_atomic_write_into_missing_directory_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomic_write(tmp_path / "missing" / "file", b"x")


def test_stale_temp_files_are_cleaned_but_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f"{TEMP_FILE_PREFIX}dead"
    fresh = tmp_path / f"{TEMP_FILE_PREFIX}live"
    unrelated = tmp_path / "keep.txt"
    for path in (stale, fresh, unrelated):
        path.write_bytes(b"x")
    an_hour_and_more_ago = time.time() - 7200
    os.utime(stale, (an_hour_and_more_ago, an_hour_and_more_ago))
    assert remove_stale_temp_files(tmp_path) == 1
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, unrelated.name])
