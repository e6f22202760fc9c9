"""Text tool-call parsing cost (issue 15) and the corpus table. Reports, never fails on timing.

Goal: a 20 KB reply with no call is read in under 1 ms (every family's parser, in priority
order, as for a model of unknown family). Also: a 20 KB reply holding 10 calls, per family; the
streaming filter over a 20 KB reply in 4-character deltas; and the per-family corpus table.

    .venv/bin/python -m bench.toolcall_parse [--repeat 200] [--no-corpus]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from claw_lsp.llm.toolcalls import extract_text_tool_calls
from claw_lsp.llm.toolcalls.render import RENDERERS
from claw_lsp.llm.toolcalls.stream import VisibleTextFilter

GOAL_NO_CALL_MS = 1.0
REPLY_CHARS = 20_000
TOOLS = {
    "read_file": {"type": "object", "properties": {"path": {"type": "string"}}},
    "grep_search": {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "max_matches": {"type": "integer"}},
    },
}
# Prose with the characters the parsers look for: tags, brackets, braces, fences, JSON.
_PARAGRAPHS = (
    "The function `parse(config)` returns a dict like {'a': 1}; see [the docs](x.md).",
    'In HTML you would write <div class="x">text</div> and <b>bold</b> tags.',
    "```python\ndef f(items: list[int]) -> dict[str, int]:\n"
    "    return {str(i): i for i in items}\n```",
    'A JSON example: {"name": "demo", "version": "1.0"} is what package.json holds.',
    "- step one [done]\n- step two (pending)\n- step three: call f(x=1) later",
    "Generics: Map<String, List<Integer>> and arrays int[] are Java; x < y > z in math.",
)


def prose(chars: int, seed: int = 15) -> str:
    rnd = random.Random(seed)
    parts: list[str] = []
    size = 0
    while True:  # whole paragraphs: a cut fence would swallow what follows
        paragraph = rnd.choice(_PARAGRAPHS)
        if size + len(paragraph) + 2 > chars:
            return "\n\n".join(parts).ljust(chars)
        parts.append(paragraph)
        size += len(paragraph) + 2


def with_calls(family: str, count: int, chars: int) -> str:
    calls = [("read_file", {"path": f"src/module_{n}.py"}) for n in range(count)]
    rendered = RENDERERS[family](calls)
    return prose(chars - len(rendered) - 2) + "\n\n" + rendered


def timed_ms(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, p95) CPU milliseconds: the process's own time, so that other load on a shared
    machine does not count (it still slows caches: compare runs on the same machine)."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        samples.append((time.process_time() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(repeat: int) -> list[str]:
    lines = [
        f"Text tool-call parsing, {REPLY_CHARS // 1000} KB replies: CPU ms, median / p95 of "
        f"{repeat}"
    ]
    plain = prose(REPLY_CHARS)
    for label, family in (("all parsers (family unknown)", None), ("family hermes", "hermes")):
        median, p95 = timed_ms(lambda f=family: extract_text_tool_calls(plain, TOOLS, f), repeat)
        verdict = "meets" if median < GOAL_NO_CALL_MS else "MISSES"
        lines.append(
            f"  no call, {label:<28} {median:7.3f} / {p95:7.3f} ms  "
            f"({verdict} the {GOAL_NO_CALL_MS:g} ms goal)"
        )
    for family in sorted(RENDERERS):
        reply = with_calls(family, 10, REPLY_CHARS)
        found = len(extract_text_tool_calls(reply, TOOLS)[1])
        median, p95 = timed_ms(lambda r=reply: extract_text_tool_calls(r, TOOLS), repeat)
        lines.append(f"  10 calls, {family:<12} {median:7.3f} / {p95:7.3f} ms  ({found} found)")
    deltas = [plain[i : i + 4] for i in range(0, len(plain), 4)]

    def stream() -> None:
        visible = VisibleTextFilter(TOOLS)
        for delta in deltas:
            visible.feed(delta)
        visible.finish()

    median, p95 = timed_ms(stream, max(5, repeat // 20))
    per_delta = median * 1000 / len(deltas)
    lines.append(
        f"  streaming filter, {len(deltas)} deltas of 4 chars: {median:.1f} / {p95:.1f} ms "
        f"({per_delta:.1f} us per delta)"
    )
    return lines


def corpus_table() -> list[str]:
    from tests.unit.corpus.loader import MODES, format_table, load_corpus, tally

    cases = load_corpus()
    titles = {"sure": "family known (only its parsers)", "auto": "family unknown (all parsers)"}
    return [format_table(tally(cases, mode), f"Corpus, {titles[mode]}:") for mode in MODES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args()
    print("\n".join(run(args.repeat)))
    if not args.no_corpus:
        print()
        print("\n\n".join(corpus_table()))


if __name__ == "__main__":
    main()
