from __future__ import annotations

import random
import re

import pytest

from claw_lsp.edits.positions import (
    LineIndex,
    Position,
    PositionEncoding,
    negotiate_encoding,
    split_lines_keepends,
)

ALL_ENCODINGS = list(PositionEncoding)
# Emoji (surrogate pair in UTF-16, 4 bytes in UTF-8), CJK (3 bytes), accented (2 bytes), CRLF,
# lone CR, and a line without a terminator.
MIXED_TEXT = "naïve 😀 x\r\n中文字\rcafé\n\n🎉🎉end"


def reference_units(text: str, encoding: PositionEncoding) -> int:
    if encoding is PositionEncoding.UTF8:
        return len(text.encode("utf-8"))
    if encoding is PositionEncoding.UTF16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def reference_position(text: str, offset: int, encoding: PositionEncoding) -> Position:
    """Independent, slow implementation: count breaks and encode the line prefix."""
    before = text[:offset]
    breaks = list(re.finditer(r"\r\n|\r|\n", before))
    line_start = breaks[-1].end() if breaks else 0
    return Position(len(breaks), reference_units(before[line_start:], encoding))


def offsets_not_inside_crlf(text: str) -> list[int]:
    return [
        offset
        for offset in range(len(text) + 1)
        if not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n")
    ]


def test_negotiation_prefers_the_clients_order() -> None:
    assert negotiate_encoding(["utf-8", "utf-16"]) is PositionEncoding.UTF8
    assert negotiate_encoding(["utf-32", "utf-8"]) is PositionEncoding.UTF32
    assert negotiate_encoding(["latin-1", "utf-16", "utf-8"]) is PositionEncoding.UTF16


@pytest.mark.parametrize("offers", [None, [], ["ucs-2"]])
def test_negotiation_defaults_to_utf16(offers: list[str] | None) -> None:
    assert negotiate_encoding(offers) is PositionEncoding.UTF16


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_positions_match_reference_and_round_trip(encoding: PositionEncoding) -> None:
    index = LineIndex(MIXED_TEXT)
    for offset in offsets_not_inside_crlf(MIXED_TEXT):
        position = index.offset_to_position(offset, encoding)
        assert position == reference_position(MIXED_TEXT, offset, encoding)
        assert index.position_to_offset(position, encoding) == offset


def test_emoji_and_cjk_columns_per_encoding() -> None:
    index = LineIndex("a😀b\n中x")
    after_emoji = 2
    assert index.offset_to_position(after_emoji, PositionEncoding.UTF32) == Position(0, 2)
    assert index.offset_to_position(after_emoji, PositionEncoding.UTF16) == Position(0, 3)
    assert index.offset_to_position(after_emoji, PositionEncoding.UTF8) == Position(0, 5)
    after_cjk = 5
    assert index.offset_to_position(after_cjk, PositionEncoding.UTF8) == Position(1, 3)
    assert index.offset_to_position(after_cjk, PositionEncoding.UTF16) == Position(1, 1)


def test_line_breaks_are_exactly_lsps_three() -> None:
    text = "a\r\nb\rc\nd\x0be\u2028f\x0cg"
    index = LineIndex(text)
    assert index.line_count == 4
    assert split_lines_keepends(text) == ["a\r\n", "b\r", "c\n", "d\x0be\u2028f\x0cg"]
    assert index.position_to_offset(Position(3, 2), PositionEncoding.UTF16) == text.index("e")


def test_past_end_columns_and_lines_clamp() -> None:
    text = "ab\r\ncd"
    index = LineIndex(text)
    assert index.position_to_offset(Position(0, 99), PositionEncoding.UTF16) == 2  # before \r\n
    assert index.position_to_offset(Position(1, 99), PositionEncoding.UTF8) == len(text)
    assert index.position_to_offset(Position(7, 0), PositionEncoding.UTF16) == len(text)


def test_column_inside_a_wide_character_rounds_down() -> None:
    index = LineIndex("x😀y")
    # UTF-16 column 2 is between the two surrogates of the emoji.
    assert index.position_to_offset(Position(0, 2), PositionEncoding.UTF16) == 1
    # UTF-8 columns 2..4 are continuation bytes of the emoji.
    for column in (2, 3, 4):
        assert index.position_to_offset(Position(0, column), PositionEncoding.UTF8) == 1
    assert index.position_to_offset(Position(0, 5), PositionEncoding.UTF8) == 2


def test_invalid_inputs_raise() -> None:
    index = LineIndex("abc")
    with pytest.raises(ValueError):
        index.offset_to_position(4, PositionEncoding.UTF16)
    with pytest.raises(ValueError):
        index.position_to_offset(Position(0, -1), PositionEncoding.UTF16)


def test_empty_text() -> None:
    index = LineIndex("")
    assert index.line_count == 1
    assert index.offset_to_position(0, PositionEncoding.UTF8) == Position(0, 0)
    assert index.position_to_offset(Position(0, 5), PositionEncoding.UTF8) == 0
    assert split_lines_keepends("") == []


@pytest.mark.parametrize("encoding", ALL_ENCODINGS)
def test_random_texts_match_reference(encoding: PositionEncoding) -> None:
    alphabet = ["a", "b", " ", "\n", "\r", "\r\n", "é", "中", "😀", "\U0010ffff", "\u0800", "\x7f"]
    rng = random.Random(18)
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        index = LineIndex(text)
        for offset in offsets_not_inside_crlf(text):
            position = index.offset_to_position(offset, encoding)
            assert position == reference_position(text, offset, encoding)
            assert index.position_to_offset(position, encoding) == offset
