"""The text tool-call corpus (tests/unit/corpus/*.json): every case, in both modes.

"sure": the family is known (only its parsers run); "auto": it is not (all parsers run in the
fixed priority order). A case with a ``gap`` is a known, deliberate difference from its source
and must stay one (strict xfail), so fixing it shows up here.
"""

from __future__ import annotations

import json

import pytest

from claw_lsp.llm.arguments import sanitize_for_history
from tests.unit.corpus.loader import MODES, CorpusCase, load_corpus, run_case, tally

CORPUS = load_corpus()
PARAMS = [
    pytest.param(
        case,
        mode,
        id=f"{mode}-{case.family}-{case.id}",
        marks=[pytest.mark.xfail(strict=True, reason=case.gap)] if case.gap else [],
    )
    for case in CORPUS
    for mode in MODES
]


@pytest.mark.parametrize(("case", "mode"), PARAMS)
def test_case(case: CorpusCase, mode: str) -> None:
    result, visible, calls = run_case(case, mode)
    expected = "exact" if case.expected[mode] else "no_call"
    assert result == expected, [(c.name, c.arguments) for c in calls]
    for call in calls:
        assert call.raw and call.raw in case.content
        assert call.name in case.tools  # an unknown name is never a call
        # Whatever was recovered, history can only ever hold a JSON object.
        assert isinstance(json.loads(sanitize_for_history(call.raw, call.arguments)), dict)
    if case.visible is not None and case.expected[mode] == case.expected["sure"]:
        assert visible == case.visible
    if not calls:
        assert visible == case.content


def test_corpus_meets_the_bar() -> None:
    assert len(CORPUS) >= 200
    assert len({case.family for case in CORPUS}) == 12
    for mode in MODES:
        table = tally(CORPUS, mode)
        exact = sum(counts["exact"] for counts in table.values())
        call_cases = sum(counts["call_cases"] for counts in table.values())
        assert exact >= 0.95 * call_cases, mode
        assert sum(counts["false_positive"] for counts in table.values()) == 0, mode
        for family, counts in table.items():
            assert counts["call_cases"] >= 4, family  # every family has real call cases


def test_every_case_names_its_source() -> None:
    known = ("vLLM ", "llama.cpp ", "claw_lsp", "Meta ", "Qwen", "SGLang", "OpenAI ", "Cohere ")
    known += ("DeepSeek",)
    for case in CORPUS:
        assert case.source.startswith(known), case.label
