"""The results table and the notes under it (what a missed goal misses by, what dominates)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.profile import HTTP, IDLE, OURS, ProfileSummary
from bench.stats import Row, fmt_ms, median, percentile, render_table, summary_ms

START_RATIO_GOAL = 1.2
PROMPT_CHARS_GOAL = 6000
CLAW_CODE_AGENT_CHARS = 11_487
STEP_GOAL_MS = 15.0
P99_GOAL_MS = 50.0
SEARCH_RATIO_GOAL = 1.5
SESSION_GOAL_MS = 200.0
IDLE_RSS_GOAL_MB = 80.0


@dataclass
class Section:
    name: str
    seconds: float
    error: str | None


def _mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def _startup(r: Any, rows: list[Row], notes: list[str]) -> None:
    ratio = median(r.claw_s) / median(r.minimal_s)
    rows.append(
        Row(
            "1. Cold start to initialize response",
            f"claw-lsp {summary_ms(r.claw_s)} vs minimal pygls {summary_ms(r.minimal_s)}: "
            f"**{ratio:.2f}x**",
            f"<= {START_RATIO_GOAL}x",
            ratio <= START_RATIO_GOAL,
        )
    )
    if ratio > START_RATIO_GOAL:
        extra = {k: v - r.minimal_imports_ms.get(k, 0.0) for k, v in r.claw_imports_ms.items()}
        top = sorted(extra.items(), key=lambda kv: -kv[1])[:6]
        over_ms = (median(r.claw_s) - START_RATIO_GOAL * median(r.minimal_s)) * 1000
        notes.append(
            f"**1. Cold start** misses the goal by {ratio / START_RATIO_GOAL - 1:.0%} "
            f"({over_ms:.0f} ms over {START_RATIO_GOAL}x the baseline). Import time "
            "(`-X importtime`, self time summed per top-level package, claw-lsp minus the "
            "minimal server): "
            + ", ".join(f"{name} {ms:+.0f} ms" for name, ms in top)
            + ". Heaviest single modules in claw-lsp: "
            + ", ".join(f"{m} {ms:.0f} ms" for m, ms in r.claw_heaviest_ms[:6])
            + ". "
            + _http_client_note(r.claw_imports_ms, r.http_client_chain)
        )
    rows.append(
        Row(
            "8a. Idle RSS after initialize",
            f"claw-lsp {_mb(median(r.claw_idle_kb))} (max {_mb(max(r.claw_idle_kb))}) vs "
            f"minimal pygls {_mb(median(r.minimal_idle_kb))}",
            f"<= {IDLE_RSS_GOAL_MB:.0f} MB",
            median(r.claw_idle_kb) / 1024 <= IDLE_RSS_GOAL_MB,
        )
    )


def _http_client_note(imports_ms: dict[str, float], chain: list[str]) -> str:
    loaded = [name for name in ("openai", "httpx2", "httpx") if name in imports_ms]
    if not loaded:
        return "openai/httpx2 are not imported before the initialize response (good)."
    cost = sum(imports_ms[name] for name in loaded)
    return (
        f"**{'/'.join(loaded)} ({cost:.0f} ms self time) are imported before the initialize "
        f"response**, by this chain: `{' -> '.join(chain)}`; make the last claw_lsp link "
        "import it lazily."
    )


def _prompt(r: Any, rows: list[Row], notes: list[str]) -> None:
    total = r.system_chars + r.tools_chars
    rows.append(
        Row(
            "2. First model request: system prompt + tool schemas",
            f"**{total:,} chars** (system {r.system_chars:,} + {len(r.tool_names)} tools "
            f"{r.tools_chars:,} as compact JSON; {r.tools_chars_spaced:,} with json.dumps "
            f"spacing); claw-code-agent sends {CLAW_CODE_AGENT_CHARS:,}",
            f"<= {PROMPT_CHARS_GOAL:,}",
            total <= PROMPT_CHARS_GOAL,
        )
    )
    share = r.stable_both / r.requests if r.requests else 0.0
    rows.append(
        Row(
            "3. Prefix stability (10 requests, 3 turns, tier change, editor context)",
            f"**{r.stable_both}/{r.requests} ({share:.0%})** requests with system message "
            f"and tools identical to the first",
            "100%",
            r.requests > 0 and share == 1.0,
        )
    )
    if share < 1.0:
        notes.append(f"**3. Prefix stability**: {r.first_difference}.")


def _loop(r: Any, rows: list[Row], notes: list[str], repo: Path) -> None:
    per_step = [t / r.requests_per_turn for t in r.turn_s]
    step_ms = median(per_step) * 1000
    profile: ProfileSummary | None = r.profile
    shares = ""
    if profile is not None:
        shares = (
            f"; busy time: our code {profile.share(OURS, busy_only=True):.0%}, HTTP client "
            f"{profile.share(HTTP, busy_only=True):.0%}"
        )
    rows.append(
        Row(
            "4. Agent overhead per step (40 read_file calls + answer, zero-latency model)",
            f"**{fmt_ms(step_ms)}/step** ({summary_ms(per_step)} over {len(r.turn_s)} turns of "
            f"{r.requests_per_turn} requests){shares}",
            f"<= {STEP_GOAL_MS:.0f} ms",
            step_ms <= STEP_GOAL_MS,
        )
    )
    rows.append(
        Row(
            "8b. Peak RSS during the 40-step loop",
            f"{_mb(r.peak_rss_kb)} (VmHWM; idle before the loop {_mb(r.idle_rss_kb)})",
            "report",
            None,
        )
    )
    growth = ""
    if r.early_steps_s and r.late_steps_s:
        growth = (
            f" Step time grows with the history: the first 5 steps of a turn take "
            f"{fmt_ms(median(r.early_steps_s) * 1000)} each, the last 5 "
            f"{fmt_ms(median(r.late_steps_s) * 1000)} (gaps between model requests)."
        )
    first = (
        f" The first turn of a server took {r.first_turn_s:.2f} s (first-use costs: lazy "
        "imports, client set-up, the first connection); it is not in the median."
    )
    detail = f"**4. Per-step overhead**:{growth}{first}"
    if step_ms > STEP_GOAL_MS:
        detail = (
            f"**4. Per-step overhead** misses the goal by {step_ms / STEP_GOAL_MS - 1:.0%} "
            f"({fmt_ms(step_ms - STEP_GOAL_MS)} per step).{growth}{first}"
        )
    if profile is not None:
        detail += "\n\n" + _profile_text(profile, repo, "the server during one 40-step turn")
    notes.append(detail)


def _profile_text(profile: ProfileSummary, repo: Path, what: str) -> str:
    lines = [
        f"Profile of {what} (pyinstrument, {profile.wall_s:.2f} s wall under the profiler, "
        f"{profile.sampled_s:.2f} s sampled; each sample goes to the innermost frame of a "
        "known package):",
        "",
        "| Where | Seconds | Share of sampled | Share of busy |",
        "|---|---|---|---|",
    ]
    for name, seconds in profile.by_category.items():
        busy = "" if name == IDLE else f"{profile.share(name, busy_only=True):.0%}"
        lines.append(f"| {name} | {seconds:.3f} | {profile.share(name):.0%} | {busy} |")
    if profile.top_ours:
        lines += ["", "Our functions with the most time (including stdlib they call):"]
        lines += [f"- {fn}: {seconds:.3f} s" for fn, seconds in profile.top_ours[:6]]
    if profile.top_leaves:
        lines += ["", "Hottest leaf functions (self time):"]
        lines += [f"- {fn}: {seconds:.3f} s" for fn, seconds in profile.top_leaves[:6]]
    if profile.text_path is not None:
        lines += ["", f"Full call tree: `{_relative(profile.text_path, repo)}`."]
    return "\n".join(lines)


def _relative(path: Path, repo: Path) -> str:
    try:
        return str(path.relative_to(repo))
    except ValueError:
        return str(path)


def _probe_row(label: str, samples: Sequence[float], extra: str) -> Row:
    p50 = percentile(samples, 0.5) * 1000
    p99 = percentile(samples, 0.99) * 1000
    return Row(
        label,
        f"p50 {fmt_ms(p50)}, **p99 {fmt_ms(p99)}** (max {fmt_ms(max(samples) * 1000)}, "
        f"n={len(samples)}){extra}",
        f"p99 <= {P99_GOAL_MS:.0f} ms",
        p99 <= P99_GOAL_MS,
    )


def _responsiveness(r: Any, rows: list[Row], notes: list[str], repo: Path) -> None:
    idle = r.idle.code_action_s + r.idle.sessions_s
    paced = (
        f"; turn streamed for {r.paced.stream_s:.2f} s, {r.paced.text_events} text events; "
        f"idle baseline p99 {fmt_ms(percentile(idle, 0.99) * 1000)}"
    )
    stream = "while 2,000 chunks stream (1 ms apart)"
    rows.append(_probe_row(f"5a. codeAction {stream}", r.paced.code_action_s, paced))
    rows.append(_probe_row(f"5b. claw.sessions {stream}", r.paced.sessions_s, ""))
    burst = r.burst.code_action_s + r.burst.sessions_s
    if burst:
        rows.append(
            _probe_row(
                "5c. both while 2,000 chunks arrive at once (no delay)",
                burst,
                f"; {r.burst.turns} turns of {r.burst.stream_s / r.burst.turns * 1000:.0f} ms",
            )
        )
    for row in rows[-3:]:
        if row.met is False:
            notes.append(f"**{row.metric}** misses p99 <= {P99_GOAL_MS:.0f} ms: {row.value}.")
    diagnosis = r.diagnosis
    if diagnosis is not None:
        steps = sorted(diagnosis.slow_steps, key=lambda item: -item[1])
        by_owner: dict[str, list[float]] = {}
        for where, seconds in steps:
            by_owner.setdefault(where, []).append(seconds)
        lines = [
            "**5. Why requests wait**: the burst turns again, in a server with asyncio debug "
            "logging every event-loop step longer than 20 ms (a request that arrives during "
            f"such a step waits for it to end): {len(steps)} slow steps."
        ]
        lines += [
            f"- {where}: {len(times)} steps, max {max(times) * 1000:.0f} ms, "
            f"median {median(times) * 1000:.0f} ms"
            for where, times in sorted(by_owner.items(), key=lambda kv: -max(kv[1]))[:5]
        ]
        if diagnosis.profile is not None:
            lines += ["", _profile_text(diagnosis.profile, repo, "the server during the bursts")]
        notes.append("\n".join(lines))


def _search(r: Any, rows: list[Row], notes: list[str], repo: Path) -> None:
    for case in r.cases:
        correctness = "results match rg" if case.correct else f"WRONG: {case.problem}"
        rows.append(
            Row(
                f"6. {case.tool} `{case.arguments['pattern']}` ({case.name})",
                f"ours {summary_ms(case.ours_s)} vs rg {summary_ms(case.rg_s)}: "
                f"**{case.ratio:.2f}x**; {case.ours_count:,} results, {correctness}",
                f"<= {SEARCH_RATIO_GOAL}x, correct",
                case.ratio <= SEARCH_RATIO_GOAL and case.correct,
            )
        )
        if case.ratio > SEARCH_RATIO_GOAL and case.profile is not None:
            notes.append(
                f"**6. {case.name}** misses the goal by {case.ratio / SEARCH_RATIO_GOAL - 1:.0%} "
                f"({fmt_ms((median(case.ours_s) - SEARCH_RATIO_GOAL * median(case.rg_s)) * 1000)}"
                " over). " + _profile_text(case.profile, repo, _profiled_call(case))
            )
    notes.append(
        f"Search tree: {r.files:,} files (45,000 tracked, 5,000 under ignored `build/` dirs, "
        f"`.gitignore` + `.git/`), generated in {r.generate_s:.1f} s; rg = the same query run "
        "directly (`rg --files --glob P` / `rg -n -e P`); ours = the tool through the real "
        "Orchestrator (validation, permission decision, rg, filtering, capping)."
    )


def _profiled_call(case: Any) -> str:
    if case.profile_scope == ".":
        return f"the same `{case.tool}` call, in process"
    return (
        f"the same `{case.tool}` call with path `{case.profile_scope}` (1/50 of the tree, to keep "
        "the run short; the cost per result is the same)"
    )


def _sessions(r: Any, rows: list[Row]) -> None:
    rows.append(
        Row(
            "7a. Resume a 1,000-message session (claw.resumeSession, first load)",
            f"**{summary_ms(r.resume_s)}** ({r.big_file_kb} KB JSONL)",
            f"<= {SESSION_GOAL_MS:.0f} ms",
            median(r.resume_s) * 1000 <= SESSION_GOAL_MS,
        )
    )
    rows.append(
        Row(
            "7b. claw.sessions over 500 sessions",
            f"**{summary_ms(r.list_s)}**, {r.listed} listed",
            f"<= {SESSION_GOAL_MS:.0f} ms",
            median(r.list_s) * 1000 <= SESSION_GOAL_MS and r.listed == 500,
        )
    )
    rows.append(
        Row(
            "7c. claw.history of that session (1,000 messages over LSP)",
            f"{summary_ms(r.history_s)}, {r.history_messages} messages",
            "report",
            None,
        )
    )


def build_report(
    results: dict[str, Any],
    sections: Sequence[Section],
    header: list[str],
    profile_dir: Path,
    repo: Path,
) -> tuple[str, str]:
    rows: list[Row] = []
    notes: list[str] = []
    if "startup" in results:
        _startup(results["startup"], rows, notes)
    if "prompt" in results:
        _prompt(results["prompt"], rows, notes)
    if "loop" in results:
        _loop(results["loop"], rows, notes, repo)
    if "responsiveness" in results:
        _responsiveness(results["responsiveness"], rows, notes, repo)
    if "search" in results:
        _search(results["search"], rows, notes, repo)
    if "sessions" in results:
        _sessions(results["sessions"], rows)
    rows.sort(key=lambda row: _order(row.metric))
    for section in sections:
        if section.error:
            rows.append(Row(f"{section.name} (benchmark failed)", section.error, "-", False))
    table = render_table(rows)
    timing = ", ".join(f"{s.name} {s.seconds:.0f} s" for s in sections)
    text = "\n".join(
        [
            *header,
            f"- Time per benchmark: {timing}",
            "",
            "Medians with (min, max, n); ratios are ratios of medians. Times are wall-clock "
            "as the client sees them (raw JSON-RPC over stdio, the real server process, the "
            "real openai client against `tests/support/scripted_model.py`).",
            "",
            table,
            "",
            "## Notes (missed goals: by how much, and what dominates)",
            "",
            "\n\n".join(notes) or "All goals met.",
            "",
        ]
    )
    return table, text


def _order(metric: str) -> tuple[int, str]:
    digits = "".join(itertools.takewhile(str.isdigit, metric))
    return (int(digits) if digits else 99, metric)
