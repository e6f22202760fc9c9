"""The text tool-call corpus: one JSON file per family, each case with its source named.

A case is the raw content a model wrote, the tools offered (the file's ``tools``, or the
subset a case names), and the expected calls: ``[]`` means "no call". An expected call is
``{"name", "arguments"}`` or ``{"name", "error": "substring"}`` for a call reported as a tool
error. ``auto`` holds the expectation when the family is not known (every parser runs) if it
differs; ``gap`` says why claw knowingly differs from the source's expectation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claw_lsp.llm.toolcall_text import TextToolCall, extract_text_tool_calls

CORPUS_DIR = Path(__file__).parent
MODES = ("sure", "auto")
OUTCOMES = ("exact", "partial", "missed", "false_positive", "no_call")


@dataclass(frozen=True)
class CorpusCase:
    family: str
    id: str
    source: str
    content: str
    tools: dict[str, Any]
    expected: dict[str, list[dict[str, Any]]]  # mode -> expected calls
    visible: str | None
    gap: str | None

    @property
    def label(self) -> str:
        return f"{self.family}: {self.id}"

    def family_for(self, mode: str) -> str | None:
        return self.family if mode == "sure" else None


def load_corpus(directory: Path = CORPUS_DIR) -> list[CorpusCase]:
    cases: list[CorpusCase] = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        all_tools: dict[str, Any] = data["tools"]
        for raw in data["cases"]:
            names = raw.get("tools", list(all_tools))
            tools = {name: all_tools[name] for name in names}
            auto = raw.get("auto", raw["calls"])
            cases.append(
                CorpusCase(
                    family=data["family"],
                    id=raw["id"],
                    source=raw["source"],
                    content=raw["content"],
                    tools=tools,
                    expected={"sure": raw["calls"], "auto": auto},
                    visible=raw.get("visible"),
                    gap=raw.get("gap"),
                )
            )
    return cases


def _same_call(call: TextToolCall, expected: dict[str, Any]) -> bool:
    if call.name != expected["name"]:
        return False
    if "error" in expected:
        error = call.arguments.error
        return call.arguments.value is None and error is not None and expected["error"] in error
    return call.arguments.error is None and call.arguments.value == expected["arguments"]


def outcome(expected: list[dict[str, Any]], calls: list[TextToolCall]) -> str:
    if not expected:
        return "false_positive" if calls else "no_call"
    if not calls:
        return "missed"
    if len(calls) == len(expected) and all(map(_same_call, calls, expected)):
        return "exact"
    return "partial"


def run_case(case: CorpusCase, mode: str) -> tuple[str, str, list[TextToolCall]]:
    """(outcome, visible text, calls) of one case in one mode."""
    visible, calls = extract_text_tool_calls(case.content, case.tools, case.family_for(mode))
    return outcome(case.expected[mode], calls), visible, calls


def tally(cases: Iterable[CorpusCase], mode: str) -> dict[str, Counter[str]]:
    """family -> counts of each outcome, plus "cases" and "call_cases"."""
    table: dict[str, Counter[str]] = {}
    for case in cases:
        counts = table.setdefault(case.family, Counter())
        result, _, _ = run_case(case, mode)
        counts[result] += 1
        counts["cases"] += 1
        counts["call_cases"] += bool(case.expected[mode])
    return table


def format_table(table: dict[str, Counter[str]], title: str) -> str:
    header = f"{'family':<12} {'cases':>5} {'calls':>5} {'exact':>5} {'partial':>7} "
    header += f"{'missed':>6} {'false+':>6}"
    lines = [title, header]
    total: Counter[str] = Counter()
    for family in sorted(table):
        counts = table[family]
        total.update(counts)
        lines.append(_row(family, counts))
    lines.append(_row("total", total))
    exact = total["exact"] / max(1, total["call_cases"])
    lines.append(f"exact: {exact:.1%} of call cases; false positives: {total['false_positive']}")
    return "\n".join(lines)


def _row(name: str, counts: Counter[str]) -> str:
    return (
        f"{name:<12} {counts['cases']:>5} {counts['call_cases']:>5} {counts['exact']:>5} "
        f"{counts['partial']:>7} {counts['missed']:>6} {counts['false_positive']:>6}"
    )
