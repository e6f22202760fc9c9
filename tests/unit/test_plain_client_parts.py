"""Pure parts of the plain-client support (issue 14): the `claw:` comment parser, the removal of
the prompt's comment line, and the server's copy of a buffer between applyEdit and didChange."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.edits.applier import remove_line_near
from claw_lsp.server.comment_prompts import parse_comment_prompt, prompts_in
from claw_lsp.server.doc_overlay import Overlays

PROMPT_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=80
).filter(lambda s: s.strip() and not s.strip().endswith(("*/", "-->", "*)", "-}", "*")))


@pytest.mark.parametrize(
    ("line", "prompt"),
    [
        ("# claw: add type hints", "add type hints"),
        ("    // claw: handle the empty list", "handle the empty list"),
        ("-- claw: use a CTE", "use a CTE"),
        ("/* claw: free the buffer */", "free the buffer"),
        ("<!-- claw: add alt text -->", "add alt text"),
        (";; CLAW: make it tail-recursive", "make it tail-recursive"),
        ("% claw: cite the paper", "cite the paper"),
        ("x = 1  # claw: not a line comment", None),
        ('"claw: a string"', None),
        ("# claw:", None),
        ("# clawed: no", None),
        ("print('claw: hi')", None),
    ],
)
def test_comment_prompts(line: str, prompt: str | None) -> None:
    assert parse_comment_prompt(line) == prompt


@given(
    opener=st.sampled_from(["#", "//", "--", ";", "%", "/*", "<!--", "!"]),
    indent=st.sampled_from(["", "  ", "\t"]),
    text=PROMPT_TEXT,
)
def test_any_comment_syntax_gives_back_the_prompt(opener: str, indent: str, text: str) -> None:
    closer = {"/*": " */", "<!--": " -->"}.get(opener, "")
    assert parse_comment_prompt(f"{indent}{opener} claw: {text}{closer}") == text.strip()[:500]


@given(st.text(max_size=300))
def test_the_parser_never_raises_and_prompts_are_one_trimmed_line(line: str) -> None:
    prompt = parse_comment_prompt(line)
    if prompt is not None:
        assert prompt == prompt.strip() and prompt and "\n" not in prompt and len(prompt) <= 500
        assert "claw:" in line.lower()


def test_prompts_in_a_range_keep_the_raw_line() -> None:
    lines = ["def f():", "    # claw: speed it up", "    return 1"]
    (found,) = prompts_in(lines, 0, 10)
    assert (found.line, found.text, found.raw) == (1, "speed it up", "    # claw: speed it up")
    assert prompts_in(lines, 2, 2) == []


@given(
    before=st.lists(st.sampled_from(["a", "b", "# claw: x", ""]), max_size=8),
    after=st.lists(st.sampled_from(["a", "b", "c", ""]), max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_remove_line_near_removes_exactly_one_matching_line(
    before: list[str], after: list[str], newline: str
) -> None:
    lines = [*before, "# claw: do it", *after]
    text = newline.join(lines) + newline
    result = remove_line_near(text, len(before), "# claw: do it")
    assert result == newline.join([*before, *after]) + (newline if before or after else "")


def test_remove_line_near_picks_the_nearest_and_none_when_gone() -> None:
    text = "# claw: x\na\nb\n# claw: x\nc\n"
    assert remove_line_near(text, 3, "# claw: x") == "# claw: x\na\nb\nc\n"
    assert remove_line_near("a\nb\n", 0, "# claw: x") is None


@dataclass
class Doc:
    uri: str
    source: str
    version: int
    language_id: str = "python"


def test_overlay_shows_applied_edits_until_the_client_reports_them() -> None:
    overlays = Overlays()
    doc = Doc("file:///a.py", "v1", 4)
    overlays.applied(doc, "v2")
    overlays.applied(doc, "v3")
    view = overlays.view(doc)
    assert (view.source, view.version, view.pending) == ("v3", 6, True)
    doc.source, doc.version = "v2", 9  # eglot: versions move by more than one
    assert overlays.reconcile(doc) is True
    assert (overlays.view(doc).source, overlays.view(doc).version) == ("v3", 10)
    doc.source, doc.version = "v3", 12
    assert overlays.reconcile(doc) is True
    view = overlays.view(doc)
    assert (view.source, view.version, view.pending) == ("v3", 12, False)
    assert overlays.reconcile(doc) is None


def test_overlay_mismatch_lets_the_client_text_win() -> None:
    overlays = Overlays()
    doc = Doc("file:///a.py", "old", 1)
    overlays.applied(doc, "ours")
    doc.source, doc.version = "something else", 2
    assert overlays.reconcile(doc) is False
    assert overlays.mismatches == ["file:///a.py"]
    assert overlays.view(doc).source == "something else" and not overlays.pending(doc.uri)
