"""Every SECURITY.md row of the groups this suite owns is named by at least one test here."""

from __future__ import annotations

import re
from pathlib import Path

GROUPS = ("PC", "SV", "PT", "PI", "SE", "SF", "RE")
HERE = Path(__file__).parent
SECURITY_MD = next(
    (
        p
        for p in (HERE.parents[1] / "docs" / "SECURITY.md", Path("/work/shared/SECURITY.md"))
        if p.exists()
    ),
    None,
)


def test_every_row_of_the_owned_groups_has_a_test() -> None:
    if SECURITY_MD is None:
        import pytest

        pytest.skip("SECURITY.md is not available on this machine")
    pattern = r"^\| ((?:" + "|".join(GROUPS) + r")-\d\d) \|"
    rows = set(re.findall(pattern, SECURITY_MD.read_text(), re.M))
    assert len(rows) > 50
    names = " ".join(
        name.lower()
        for path in HERE.glob("test_*.py")
        for name in re.findall(r"def (test_\w+)", path.read_text())
    )
    missing = sorted(r for r in rows if r.lower().replace("-", "") not in names)
    assert not missing, f"rows without a test: {missing}"
