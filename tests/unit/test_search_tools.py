"""glob and grep over real trees, through the real Orchestrator (issue 9: rg does the
filtering, Python only the shown rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import is_sensitive_relative
from claw_lsp.tools.search import _in_path_order, _looks_sensitive
from tests.security.conftest import Harness


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def harness(ws: Path, tmp_path: Path) -> Harness:
    return Harness([ws], state_dir=tmp_path / "state", tier=Tier.WRITE)


async def test_glob_sorts_by_path_components_and_counts_past_the_cap(
    harness: Harness, ws: Path
) -> None:
    (ws / "a").mkdir()
    (ws / "a" / "z.py").write_text("")
    (ws / "a-b.py").write_text("")
    (ws / "many").mkdir()
    for index in range(600):
        (ws / "many" / f"f{index:03}.py").write_text("")
    result = await harness.call("glob", {"pattern": "**/*.py"})
    rows = result.content.splitlines()
    # rg's own order: the directory "a" sorts before the file "a-b.py".
    assert rows[:3] == ["a/z.py", "a-b.py", "many/f000.py"]
    assert rows[-1] == "[602 files matched; first 500 shown]"
    assert len(rows) == 501
    narrow = await harness.call("glob", {"pattern": "*.py", "path": "many"})
    assert narrow.content.splitlines()[0] == "many/f000.py"


async def test_a_model_glob_cannot_bring_back_credential_files(harness: Harness, ws: Path) -> None:
    (ws / "config").mkdir()
    (ws / "config" / "prod.env").write_text("TOKEN=CREDVALUE\n")
    (ws / ".env").write_text("TOKEN=CREDVALUE\n")
    (ws / ".ssh").mkdir()
    (ws / ".ssh" / "notes.txt").write_text("CREDVALUE\n")
    (ws / "app.py").write_text("CREDVALUE = 'not a secret here'\n")
    for glob in ("*.env", "**/.env", ".ssh/*", "**/*"):
        found = await harness.call("glob", {"pattern": glob})
        assert "env" not in found.content and ".ssh" not in found.content, glob
        grep = await harness.call("grep", {"pattern": "CREDVALUE", "glob": glob})
        assert "TOKEN" not in grep.content and ".ssh" not in grep.content, glob
    everything = await harness.call("grep", {"pattern": "CREDVALUE"})
    assert everything.content == "app.py:1:CREDVALUE = 'not a secret here'"


async def test_grep_counts_every_match_but_formats_only_the_shown(
    harness: Harness, ws: Path
) -> None:
    for index in range(30):
        (ws / f"m{index:02}.txt").write_text("hit\n" * 10 + "miss\n")
    result = await harness.call("grep", {"pattern": "^hit$", "max_matches": 7})
    rows = result.content.splitlines()
    assert len(rows) == 8 and rows[-1].startswith("[300 matches in all; first 7 shown")
    assert all(row.split(":")[2] == "hit" for row in rows[:7])
    assert result.summary == "grep '^hit$': 300 matches"


async def test_grep_of_one_binary_file_says_so_without_its_bytes(
    harness: Harness, ws: Path
) -> None:
    (ws / "blob.dat").write_bytes(b"head needle\n\x00\x00tail needle\n")
    result = await harness.call("grep", {"pattern": "needle", "path": "blob.dat"})
    assert result.ok and "\x00" not in result.content
    assert result.content.startswith("blob.dat: binary file matches")


@pytest.mark.parametrize(
    "relative",
    [".env", "a/.ENV.local", "x/prod.env", "k.PEM", "keys/id_rsa.pub", ".ssh/notes",
     "a/.Aws/config", "credentials", "credentials.json", "dir/.npmrc", "src/app.py",
     "envy.py", "a.environment", "x.key.bak", "node/.docker/c", "a/b/c"],
)  # fmt: skip
def test_the_fast_row_check_is_the_confinement_modules_rule(relative: str) -> None:
    assert _looks_sensitive(relative) == is_sensitive_relative(relative)


def test_path_order_goes_on_past_the_likely_count_when_rows_are_dropped() -> None:
    listed = [f"d{n % 7}\0f{n}".encode() for n in range(50)]
    assert list(_in_path_order(listed, 5)) == sorted(listed)
    assert list(_in_path_order(listed, 80)) == sorted(listed)
