from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from unidiff import PatchSet

from claw_lsp.edits.positions import LineIndex, Position, PositionEncoding, Range
from claw_lsp.edits.textdiff import (
    TextEdit,
    apply_edits,
    changed_line_span,
    minimal_edits,
    unified_diff,
)

ALL_ENCODINGS = list(PositionEncoding)
UTF16 = PositionEncoding.UTF16


def edit(start: tuple[int, int], end: tuple[int, int], new_text: str) -> TextEdit:
    return TextEdit(Range(Position(*start), Position(*end)), new_text)


def assert_edits_well_formed(old: str, edits: list[TextEdit], encoding: PositionEncoding) -> None:
    index = LineIndex(old)
    previous_end = -1
    for text_edit in edits:
        start = index.position_to_offset(text_edit.range.start, encoding)
        end = index.position_to_offset(text_edit.range.end, encoding)
        # Positions must survive the round trip exactly: no range lands inside \r\n or an emoji.
        assert index.offset_to_position(start, encoding) == text_edit.range.start
        assert index.offset_to_position(end, encoding) == text_edit.range.end
        assert previous_end <= start <= end
        previous_end = end


def test_identical_texts_give_no_edits() -> None:
    assert minimal_edits("same\r\ntext😀", "same\r\ntext😀") == []
    assert minimal_edits("", "") == []


def test_one_character_change_is_one_character_edit() -> None:
    old = "def f():\n    return 1\n"
    new = "def f():\n    return 2\n"
    assert minimal_edits(old, new) == [edit((1, 11), (1, 12), "2")]


def test_lp18_emoji_cjk_crlf_ranges_land_exactly() -> None:
    old = "# 😀 注释\r\nname = '中文'\r\nprint(name)\r\n"
    new = "# 😀 注释\r\nname = '中文字'\r\nprint(name)\r\n"
    expected = {
        PositionEncoding.UTF8: [edit((1, 14), (1, 14), "字")],
        PositionEncoding.UTF16: [edit((1, 10), (1, 10), "字")],
        PositionEncoding.UTF32: [edit((1, 10), (1, 10), "字")],
    }
    for encoding in ALL_ENCODINGS:
        edits = minimal_edits(old, new, encoding)
        assert edits == expected[encoding]
        assert apply_edits(old, edits, encoding) == new
    after_emoji = "# 😀X 注释\r\nname = '中文'\r\nprint(name)\r\n"
    assert minimal_edits(old, after_emoji, UTF16) == [edit((0, 4), (0, 4), "X")]
    assert minimal_edits(old, after_emoji, PositionEncoding.UTF8) == [edit((0, 6), (0, 6), "X")]


def test_never_splits_crlf() -> None:
    # Only the \r differs, but an edit boundary between \r and \n is not a valid position.
    old = "x\r\ny\r\n"
    new = "x\ny\r\n"
    edits = minimal_edits(old, new)
    assert edits == [edit((0, 1), (1, 0), "\n")]
    assert apply_edits(old, edits, UTF16) == new
    # Turning a lone \r into \r\n, and back.
    for before, after in [("a\rb", "a\r\nb"), ("a\r\nb", "a\rb"), ("a\r\nb", "a\r\r\nb")]:
        for encoding in ALL_ENCODINGS:
            edits = minimal_edits(before, after, encoding)
            assert_edits_well_formed(before, edits, encoding)
            assert apply_edits(before, edits, encoding) == after


def test_rename_on_adjacent_lines_gives_one_small_edit_per_line() -> None:
    old = "value = 1\nprint(value)\nvalue += 1\n"
    new = "total = 1\nprint(total)\ntotal += 1\n"
    edits = minimal_edits(old, new)
    assert [e.range.start.line for e in edits] == [0, 1, 2]
    assert all(e.range.start.line == e.range.end.line for e in edits)
    assert apply_edits(old, edits, UTF16) == new


def test_one_change_in_a_ten_thousand_line_file() -> None:
    lines = [f"line {number}: some ordinary code here\n" for number in range(10_000)]
    old = "".join(lines)
    lines[6_543] = "line 6543: some ordinary code HERE\n"
    new = "".join(lines)
    assert minimal_edits(old, new) == [edit((6_543, 30), (6_543, 34), "HERE")]


def test_rewrite_of_a_file_full_of_blank_lines_is_still_correct() -> None:
    # Many identical lines are the case that makes a naive line matcher quadratic.
    rng = random.Random(7)
    old = "".join(rng.choice(["\n", "}\n", f"v{rng.randrange(99)}\n"]) for _ in range(3_000))
    new = "".join(rng.choice(["\n", "}\n", f"w{rng.randrange(99)}\n"]) for _ in range(3_000))
    edits = minimal_edits(old, new)
    assert_edits_well_formed(old, edits, UTF16)
    assert apply_edits(old, edits, UTF16) == new


PIECES = [
    "a", "b", "x", " ", "\t", "\n", "\r", "\r\n", "é", "中", "文", "😀", "🎉",
    "\U0010ffff", "def f():", "    return 1", "", "\ufeff",
]  # fmt: skip


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 25)))


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        position = rng.randrange(0, len(text) + 1)
        operation = rng.randrange(3)
        if operation == 0:
            text = text[:position] + rng.choice(PIECES) + text[position:]
        elif operation == 1:
            text = text[:position] + text[position + rng.randrange(1, 4) :]
        else:
            text = text[:position] + rng.choice(PIECES) + text[position + 1 :]
    return text


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_property_apply_of_minimal_edits_reproduces_new(encoding: PositionEncoding) -> None:
    rng = random.Random(2026)
    for _ in range(1_500):
        old = random_text(rng)
        new = mutate(rng, old) if rng.random() < 0.7 else random_text(rng)
        edits = minimal_edits(old, new, encoding)
        assert_edits_well_formed(old, edits, encoding)
        assert apply_edits(old, edits, encoding) == new, (old, new, edits)
        if old == new:
            assert edits == []


def test_apply_edits_rejects_overlap_and_inverted_ranges() -> None:
    with pytest.raises(ValueError, match="non overlapping"):
        apply_edits("abcdef", [edit((0, 1), (0, 4), "X"), edit((0, 3), (0, 5), "Y")], UTF16)
    with pytest.raises(ValueError):
        apply_edits("abcdef", [edit((0, 4), (0, 1), "X")], UTF16)


def test_apply_edits_uses_original_ranges_in_any_array_order() -> None:
    edits = [edit((1, 0), (1, 1), "B"), edit((0, 0), (0, 1), "A"), edit((0, 3), (1, 0), "")]
    assert apply_edits("abc\nbcd", edits, UTF16) == "AbcBcd"
    # Inserts at one position appear in array order; touching ranges are not overlapping.
    inserts = [edit((0, 1), (0, 1), "1"), edit((0, 1), (0, 1), "2"), edit((0, 1), (0, 2), "Z")]
    assert apply_edits("ab", inserts, UTF16) == "a12Z"


def test_changed_line_span() -> None:
    old = "a\nb\nc\nd\n"
    assert changed_line_span(old, old) is None
    assert changed_line_span(old, "a\nB\nc\nd\n") == (1, 1)
    assert changed_line_span(old, "a\nB\nC\nd\n") == (1, 2)
    assert changed_line_span(old, "a\nd\n") == (1, 2)  # two whole lines deleted
    assert changed_line_span(old, "a\nb\nnew\nc\nd\n") == (2, 2)  # insertion before line 2


def test_unified_diff_parses_and_applies_with_patch(tmp_path: Path) -> None:
    old = "one\ntwo\nthree\r\nfour\rfive\n" + "".join(f"l{n}\n" for n in range(20)) + "tail"
    new = old.replace("two", "TWO").replace("l15", "fifteen").replace("tail", "tail!\n")
    diff = unified_diff(old, new, "pkg/mod.py")
    assert diff.startswith("--- a/pkg/mod.py\n+++ b/pkg/mod.py\n")
    assert "\\ No newline at end of file\n" in diff
    patch = PatchSet(diff)
    assert len(patch) == 1
    assert patch[0].added == 3
    assert patch[0].removed == 3
    target = tmp_path / "mod.py"
    target.write_bytes(old.encode())
    subprocess.run(
        ["patch", "--quiet", "-p1", "-d", str(tmp_path), "-i", "-"],
        input=diff.replace("a/pkg/", "a/").replace("b/pkg/", "b/").encode(),
        check=True,
    )
    assert target.read_bytes().decode() == new
    assert unified_diff(old, old, "pkg/mod.py") == ""
