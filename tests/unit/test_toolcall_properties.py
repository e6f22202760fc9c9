"""Property-based tests of the text tool-call parsers (hypothesis).

Random calls with random argument values (quotes, newlines, unicode, nested JSON) are rendered
in each family's syntax and must parse back exactly; prose that holds the families' opening
markers but no complete call, and real calls in places that are never executed, give none.
"""

from __future__ import annotations

import keyword
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claw_lsp.llm.toolcalls import FAMILIES, extract_text_tool_calls
from claw_lsp.llm.toolcalls.regions import _OPAQUE
from claw_lsp.llm.toolcalls.render import RENDERERS

TOOL_NAMES = ("read_file", "write_file", "run_shell", "grep_search")
XML_FAMILIES = {"qwen3_coder", "glm"}
# Markup a value cannot hold in any family: reasoning and tool-result markers (the parsers
# never look inside those) and code fences.
STRUCTURAL = tuple({marker for pair in _OPAQUE for marker in pair} | {"```", "~~~"})
# XML values are raw text: they cannot hold their own tags.
XML_TAGS = ("<parameter=", "</parameter>", "<function=", "</function>", "<tool_call>")
XML_TAGS += ("</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>")
SETTINGS = settings(max_examples=40, deadline=None)

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda key: not keyword.iskeyword(key)
)
texts = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\"'\\\n\t{}[]<>/`|"),
    max_size=24,
).filter(lambda text: not any(marker in text for marker in STRUCTURAL))
scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | texts
scalars |= st.floats(allow_nan=False, allow_infinity=False, width=64)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
arguments = st.dictionaries(keys, values, max_size=4)
calls = st.lists(st.tuples(st.sampled_from(TOOL_NAMES), arguments), min_size=1, max_size=3)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _schemas(rendered: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Each tool's schema declares the type each generated value has (XML carries none)."""
    tools: dict[str, Any] = {name: {"type": "object", "properties": {}} for name in TOOL_NAMES}
    for name, args in rendered:
        for key, value in args.items():
            tools[name]["properties"][key] = {"type": _json_type(value)}
    return tools


def _fits(family: str, rendered: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether the format can carry these calls at all (documented limits of XML values)."""
    if family not in XML_FAMILIES:
        return True
    seen: dict[str, dict[str, str]] = {}
    for name, args in rendered:
        for key, value in args.items():
            kind = _json_type(value)
            if seen.setdefault(name, {}).setdefault(key, kind) != kind:
                return False  # one schema per tool: a key must keep its type
            if not isinstance(value, str):
                continue
            if any(tag in value for tag in XML_TAGS) or value.endswith("\r"):
                return False
            if family == "glm" and value != value.strip("\r\n"):
                return False  # GLM puts no line break around a value
    return True


def _parsed(content: str, tools: dict[str, Any], family: str | None) -> list[tuple[str, Any]]:
    _, found = extract_text_tool_calls(content, tools, family)
    return [(call.name, call.arguments.value) for call in found]


@SETTINGS
@given(calls, st.sampled_from(sorted(RENDERERS)))
def test_rendered_calls_parse_back_exactly(rendered: list[Any], family: str) -> None:
    if not _fits(family, rendered):
        return
    content = RENDERERS[family](rendered)
    tools = _schemas(rendered)
    expected = [(name, args) for name, args in rendered]
    assert _parsed(content, tools, family) == expected
    assert _parsed(content, tools, None) == expected  # every parser, in priority order


@SETTINGS
@given(calls, st.sampled_from(sorted(RENDERERS)), texts.filter(lambda t: "\n" not in t))
def test_prose_around_a_call_is_kept(rendered: list[Any], family: str, prose: str) -> None:
    if not _fits(family, rendered) or not prose.strip() or family in ("json", "pythonic"):
        return
    tools = _schemas(rendered)
    content = f"Let me do that.\n{RENDERERS[family](rendered)}"
    visible, found = extract_text_tool_calls(content, tools, family)
    assert [(call.name, call.arguments.value) for call in found] == list(rendered)
    assert visible == "Let me do that."


OPENERS = (
    "<tool_call>", "<function=", "<function=read_file>", '<function name="read_file">',
    "<tools>", "<function_call>", "<parameter=path>", "<arg_key>", "<arg_value>",
    "[TOOL_CALLS]", "[TOOL_CALLS]read_file[ARGS]", "[TOOL_CALLS]read_file", "<|python_tag|>",
    "<|python_start|>", "<|channel|>commentary to=functions.read_file <|constrain|>json"
    "<|message|>", "<|start|>assistant to=functions.run_shell<|channel|>commentary<|message|>",
    "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>",
    "<|tool_calls_section_begin|>", "<|tool_call_begin|>functions.read_file:0"
    "<|tool_call_argument_begin|>", "Action:", "<|START_ACTION|>", "```json\n", "```xml\n",
)  # fmt: skip
# Prose with opening markers and tool names but none of what completes a call: no braces,
# brackets or parentheses, and no closing tags.
prose_pieces = st.sampled_from(OPENERS + TOOL_NAMES) | st.text(
    st.sampled_from("abcdefghij \n.,:;!?'\"=-_/<>|"), max_size=12
)
prose = st.lists(prose_pieces, max_size=12).map("".join)


@SETTINGS
@given(prose, st.sampled_from((None, *FAMILIES)))
def test_markers_without_a_complete_call_are_never_calls(text: str, family: str | None) -> None:
    assert _parsed(text, dict.fromkeys(TOOL_NAMES), family) == []


WRAPPERS = (
    "<think>\n{}\n</think>\nDone.",
    "Thinking about it: {}\n</think>\nNo call after all.",
    "<tool_response>\n{}\n</tool_response>",
    "[THINK]{}[/THINK]Nothing to do.",
    "<|channel|>analysis<|message|>{}<|end|><|start|>assistant<|channel|>final<|message|>No.",
)


@SETTINGS
@given(calls, st.sampled_from(sorted(RENDERERS)), st.sampled_from(WRAPPERS))
def test_calls_in_reasoning_or_results_never_run(
    rendered: list[Any], family: str, wrapper: str
) -> None:
    if not _fits(family, rendered) or (family == "harmony" and "<|channel|>" in wrapper):
        return  # harmony messages do not nest: its own <|start|> ends an analysis message
    content = wrapper.replace("{}", RENDERERS[family](rendered))
    tools = _schemas(rendered)
    assert _parsed(content, tools, family) == []
    assert _parsed(content, tools, None) == []


@SETTINGS
@given(calls, st.sampled_from(sorted(set(RENDERERS) - {"json", "command_r"})))
def test_fenced_examples_and_unknown_tools_never_run(rendered: list[Any], family: str) -> None:
    if not _fits(family, rendered):
        return
    tools = _schemas(rendered)
    example = f"For example:\n```\n{RENDERERS[family](rendered)}\n```"
    assert _parsed(example, tools, None) == []
    others = {f"other_{name}": schema for name, schema in tools.items()}
    assert _parsed(RENDERERS[family](rendered), others, None) == []
