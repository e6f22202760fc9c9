"""The streaming visible-text filter: what reaches the user while a reply streams in.

Its promise: what it has passed on is always a prefix of the final visible text (so the raw
markup of a recovered call is never shown), and all of the visible text arrives in the end.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claw_lsp.llm.toolcalls.core import without_spans
from claw_lsp.llm.toolcalls.registry import catalog, find_matches
from claw_lsp.llm.toolcalls.render import RENDERERS
from claw_lsp.llm.toolcalls.stream import VisibleTextFilter, has_open_call
from tests.unit.corpus.loader import load_corpus

CORPUS = load_corpus()
TOOLS = {"read_file": None, "run_shell": None}
HERMES = '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>'


def final_visible(content: str, tools: Any, family: str | None) -> str:
    matches = find_matches(content, catalog(tools), family)
    return without_spans(content, [(match.start, match.end) for match in matches])


def stream(content: str, cuts: list[int], tools: Any = TOOLS, family: str | None = None) -> str:
    """Feed ``content`` cut at ``cuts``; check the prefix promise at every step."""
    final = final_visible(content, tools, family)
    visible_filter = VisibleTextFilter(tools, family)
    shown = ""
    start = 0
    for cut in [*sorted(set(cuts)), len(content)]:
        shown += visible_filter.feed(content[start:cut])
        start = max(start, cut)
        assert final.startswith(shown), (shown, final)
    shown += visible_filter.finish()
    assert shown == final
    return shown


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_plain_prose_passes_through_at_once() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    assert visible_filter.feed("The bug is on line 3") == "The bug is on line 3"
    assert visible_filter.feed(": `x = y`.\n") == ": `x = y`.\n"
    assert visible_filter.finish() == ""


def test_a_call_is_never_shown() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    content = f"Let me look.\n{HERMES}\nThen I fix it."
    shown = [visible_filter.feed(piece) for piece in pieces(content, 3)]
    assert "".join(shown) == "Let me look.\n"
    assert visible_filter.finish() == "\nThen I fix it."


def test_a_partial_marker_waits_for_the_next_delta() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    assert visible_filter.feed("Hello <tool") == "Hello "
    assert visible_filter.feed("tip> is not a tag") == "<tooltip> is not a tag"


def test_a_marker_in_prose_is_released_once_settled() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    assert visible_filter.feed("Calls use a <tool_call>") == "Calls use a "
    assert visible_filter.feed(" tag. More.") == "<tool_call> tag. More."


def test_reasoning_streams_even_when_it_mentions_calls() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    shown = visible_filter.feed(f"<think>I could write {HERMES} but")
    assert shown == f"<think>I could write {HERMES} but"


def test_structured_calls_leave_the_text_alone() -> None:
    visible_filter = VisibleTextFilter(TOOLS)
    assert visible_filter.feed("Reading.\n<tool_call>") == "Reading.\n"
    assert visible_filter.finish(calls_used=False) == "<tool_call>"


def test_unknown_tools_are_shown() -> None:
    content = '<tool_call>{"name": "set_tier", "arguments": {}}</tool_call> done'
    assert stream(content, list(range(0, len(content), 4))) == content


def test_only_the_families_markers_are_held() -> None:
    visible_filter = VisibleTextFilter(TOOLS, family="mistral")
    assert visible_filter.feed("Use <tool_call> here") == "Use <tool_call> here"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CORPUS), st.booleans(), st.lists(st.integers(0, 400), max_size=12))
def test_every_corpus_case_streams_safely(case: Any, sure: bool, cuts: list[int]) -> None:
    family = case.family if sure else None
    stream(case.content, [cut for cut in cuts if cut < len(case.content)], case.tools, family)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(RENDERERS)),
    st.sampled_from(["", "Let me check.\n", "<think>plan</think>\n"]),
    st.sampled_from(["", "\nDone.", "\n\nI will wait for the results."]),
    st.integers(1, 9),
)
def test_rendered_calls_stream_safely(family: str, before: str, after: str, size: int) -> None:
    calls = [("read_file", {"path": "src/a.py"}), ("run_shell", {"command": 'echo "hi"'})]
    content = before + RENDERERS[family](calls) + after
    cuts = list(range(size, len(content), size))
    for mode in (family, None):
        shown = stream(content, cuts, TOOLS, mode)
        assert "read_file" not in shown and "src/a.py" not in shown


def test_open_calls_at_the_token_limit() -> None:
    assert has_open_call('<tool_call>{"name": "read_file", "arguments": {"pa', TOOLS)
    assert has_open_call("<tool_call>\n<function=read_file>\n<parameter=path>\na", TOOLS)
    assert has_open_call('[TOOL_CALLS]read_file[ARGS]{"path": "a', TOOLS)
    assert has_open_call("Sure.\n```json\n{", TOOLS)
    assert not has_open_call("Calls use a <tool_call> tag, see below.", TOOLS)
    assert not has_open_call(f"Done: {HERMES}", TOOLS)
    assert not has_open_call("<think>maybe <tool_call>{", TOOLS)
