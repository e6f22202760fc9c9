"""The one entry point: which parsers run, in which order, and what is left for the user.

With a family known for sure only that family's parsers run (fewer false positives); otherwise
every parser runs in the fixed priority order below, the most distinctive markup first. A span
claimed by an earlier parser is never read again by a later one. Fenced blocks are read as a
whole: a fence whose body is nothing but calls is a call; any other fence is text. Last, when
nothing else matched, the whole reply may be bare JSON.

Used only on the assistant's content when the response carried no structured ``tool_calls``
(SECURITY.md BF-09); the caller must never pass tool results or file content here. Recovered
calls go through the same schema validation and approval as structured ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from claw_lsp.llm.toolcalls import (
    command_r,
    generic,
    glm,
    harmony,
    hermes,
    llama,
    mistral,
    pythonic,
    qwen_xml,
    sections,
)
from claw_lsp.llm.toolcalls.core import (
    MAX_CONTENT_CHARS,
    Match,
    SpanSet,
    TextToolCall,
    ToolCatalog,
    without_spans,
)
from claw_lsp.llm.toolcalls.jsoncall import with_raw
from claw_lsp.llm.toolcalls.regions import Scan


@dataclass(frozen=True)
class ParserSpec:
    name: str
    find: Callable[[Scan], list[Match]]


PARSERS: dict[str, ParserSpec] = {
    spec.name: spec
    for spec in (
        ParserSpec("harmony", harmony.find),
        ParserSpec("deepseek", sections.find_deepseek),
        ParserSpec("kimi_k2", sections.find_kimi),
        ParserSpec("mistral", mistral.find),
        ParserSpec("command_r", command_r.find),
        ParserSpec("glm", glm.find),
        ParserSpec("qwen3_coder", qwen_xml.find),
        ParserSpec("hermes", hermes.find),
        ParserSpec("llama3", llama.find),
        ParserSpec("pythonic", pythonic.find),
    )
}
PRIORITY = tuple(PARSERS)
# What each family writes: its own form and the forms its models are known to fall back to.
# Fenced and bare JSON (the "json" pseudo-family) are read for every family.
FAMILY_PARSERS: dict[str, tuple[str, ...]] = {
    "harmony": ("harmony",),
    "deepseek": ("deepseek",),
    "kimi_k2": ("kimi_k2",),
    "mistral": ("mistral",),
    "command_r": ("command_r",),
    "glm": ("glm",),
    "qwen3_coder": ("qwen3_coder", "hermes"),
    "hermes": ("qwen3_coder", "hermes"),  # Hermes 2 Pro also writes <function=NAME>{...}
    "functionary": ("qwen3_coder", "llama3"),
    "llama3": ("qwen3_coder", "llama3", "pythonic"),  # 3.1 custom tools, 3.2 pythonic
    "pythonic": ("pythonic", "llama3"),
    "json": (),
}
FAMILIES = tuple(FAMILY_PARSERS)


def parsers_for(family: str | None) -> tuple[str, ...]:
    """The parser names that run for ``family`` (None or unknown: all of them), in order."""
    if family not in FAMILY_PARSERS:
        return PRIORITY
    wanted = set(FAMILY_PARSERS[family])
    return tuple(name for name in PRIORITY if name in wanted)


def _overlaps(match: Match, others: list[Match]) -> bool:
    return any(match.start < other.end and other.start < match.end for other in others)


def _fenced(scan: Scan, family: str | None, claimed: list[Match]) -> list[Match]:
    found: list[Match] = []
    for fence in scan.fences:
        if not fence.may_hold_call or fence.start in scan.opaque:
            continue
        as_match = Match(fence.start, fence.end, ())
        if _overlaps(as_match, claimed):
            continue
        inner = find_matches(fence.body, scan.tools, family, with_fences=False)
        spans = [(match.start, match.end) for match in inner]
        if not inner or without_spans(fence.body, spans).strip():
            continue  # a fence with prose or code besides the calls is not a call
        calls = [call for match in inner for call in match.calls]
        raw = scan.content[fence.start : fence.end]
        found.append(Match(fence.start, fence.end, with_raw(calls, raw)))
    return found


def find_matches(
    content: str, tools: ToolCatalog, family: str | None = None, *, with_fences: bool = True
) -> list[Match]:
    """The call spans of ``content`` in order; ``family`` None means "not known for sure"."""
    return analyse(content, tools, family, with_fences=with_fences)[0]


def analyse(
    content: str, tools: ToolCatalog, family: str | None = None, *, with_fences: bool = True
) -> tuple[list[Match], Scan]:
    """The call spans and the regions they were found among (the stream filter needs both)."""
    known_family = family if family in FAMILY_PARSERS else None
    scan = Scan.of(content, tools, sure=known_family is not None, with_fences=with_fences)
    if len(content) > MAX_CONTENT_CHARS:
        return [], scan
    matches: list[Match] = []
    for name in parsers_for(known_family):
        found = [m for m in PARSERS[name].find(scan) if not _overlaps(m, matches)]
        if found:
            matches += found
            scan = replace(scan, claimed=SpanSet((m.start, m.end) for m in matches))
    if with_fences:
        matches += _fenced(scan, known_family, matches)
    if not matches:
        matches = generic.find(scan)
    matches.sort(key=lambda match: match.start)
    return matches, scan


def catalog(known_tools: Collection[str] | ToolCatalog) -> ToolCatalog:
    return known_tools if isinstance(known_tools, ToolCatalog) else ToolCatalog(known_tools)


def extract_text_tool_calls(
    content: str, known_tools: Collection[str] | ToolCatalog, family: str | None = None
) -> tuple[str, list[TextToolCall]]:
    """Return (content with recognised call blocks removed, the calls in order).

    ``known_tools`` holds the tool names; when it is a mapping from name to the tool's
    parameters schema (or full OpenAI tool definition), text values are typed by it.
    ``family`` (see FAMILIES) restricts parsing to that family's forms; None reads them all.
    """
    matches = find_matches(content, catalog(known_tools), family)
    if not matches:
        return content, []
    visible = without_spans(content, [(match.start, match.end) for match in matches])
    return visible.strip(), [call for match in matches for call in match.calls]
