"""Text tool-call recovery from assistant content (SECURITY.md BF-07/08/09/14), table-driven.

Each corpus entry is real-world-shaped model output. ``calls`` lists what must be recovered:
(name, expected arguments) or (name, Error("substring")) for a call reported as a tool error.
``visible`` is the text left for the user; None means "the content, unchanged".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from claw_lsp.llm.arguments import (
    REPAIR_APPENDED_BRACE,
    REPAIR_CONTROL_CHARACTERS,
    REPAIR_HTML_ENTITIES,
    REPAIR_PYTHON_LITERAL,
    sanitize_for_history,
)
from claw_lsp.llm.text_tools_prompt import render_tools_prompt
from claw_lsp.llm.toolcall_text import MAX_CONTENT_CHARS, extract_text_tool_calls

KNOWN_TOOLS = frozenset({"read_file", "write_file", "run_shell", "grep_search", "list_dir"})


@dataclass(frozen=True)
class Error:
    reason: str


@dataclass(frozen=True)
class Case:
    id: str
    content: str
    calls: list[tuple[str, Any]]
    visible: str | None = None
    repair: str | None = None  # expected repair on the first call, when one applies


HERMES = [
    Case(
        "hermes basic",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>',
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "hermes parameters key",
        '<tool_call>{"name": "read_file", "parameters": {"path": "a.py"}}</tool_call>',
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "hermes arguments as json string",
        '<tool_call>{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}</tool_call>',
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "hermes with prose around",
        'Let me look at it.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}'
        "\n</tool_call>\nThen I will fix it.",
        [("read_file", {"path": "a.py"})],
        "Let me look at it.\n\nThen I will fix it.",
    ),
    Case(
        "hermes several blocks",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "grep_search", "arguments": {"pattern": "TODO", "max_matches": 5}}'
        "\n</tool_call>",
        [("read_file", {"path": "a.py"}), ("grep_search", {"pattern": "TODO", "max_matches": 5})],
        "",
    ),
    Case(
        "hermes missing closing tag at end",
        'Reading.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n',
        [("read_file", {"path": "a.py"})],
        "Reading.",
    ),
    Case(
        "hermes missing final brace repaired",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}\n</tool_call>',
        [("read_file", {"path": "a.py"})],
        "",
        REPAIR_APPENDED_BRACE,
    ),
    Case(
        "hermes missing two braces is an error",
        '<tool_call>\n{"name": "write_file", "arguments": {"path": "a.py", "content": "x"\n'
        "</tool_call>",
        [("write_file", Error("invalid arguments JSON"))],
        "",
    ),
    Case(
        "hermes extra data is an error",
        '<tool_call>{"name": "read_file", "arguments": {"path": "a"}}'
        '{"name": "read_file", "arguments": {"path": "b"}}</tool_call>',
        [("read_file", Error("unexpected data after the object"))],
        "",
    ),
    Case(
        "bf07 truncated arguments with leaked tag",
        '<tool_call>\n{"name": "run_shell", "arguments": {"cmd": "timeout 7\\n7", '
        '"echo X\\n</parameter":\n</tool_call>',
        [("run_shell", Error("invalid arguments JSON"))],
        "",
    ),
    Case(
        "bf08 truncated string argument",
        '<tool_call>{"name": "run_shell", "arguments": '
        '"{\\"command\\": \\"mkdir -p test/{test1,test2"}</tool_call>',
        [("run_shell", Error("Unterminated string"))],
        "",
    ),
    Case(
        "hermes nested quotes",
        '<tool_call>{"name": "run_shell", "arguments": '
        '{"command": "grep -rn \\"def \\\\\\"main\\\\\\"\\" src"}}</tool_call>',
        [("run_shell", {"command": 'grep -rn "def \\"main\\"" src'})],
        "",
    ),
    Case(
        "hermes closing tag inside a string value",
        '<tool_call>{"name": "write_file", "arguments": {"path": "p.md", '
        '"content": "Write </tool_call> after the JSON."}}</tool_call>',
        [("write_file", {"path": "p.md", "content": "Write </tool_call> after the JSON."})],
        "",
    ),
    Case(
        "hermes raw newlines in code",
        '<tool_call>{"name": "write_file", "arguments": {"path": "a.py", '
        '"content": "def f():\n    return 1\n"}}</tool_call>',
        [("write_file", {"path": "a.py", "content": "def f():\n    return 1\n"})],
        "",
        REPAIR_CONTROL_CHARACTERS,
    ),
    Case(
        "hermes empty arguments",
        '<tool_call>{"name": "list_dir", "arguments": {}}</tool_call>',
        [("list_dir", {})],
        "",
    ),
    Case(
        "hermes no arguments key",
        '<tool_call>{"name": "list_dir"}</tool_call>',
        [("list_dir", {})],
        "",
    ),
    Case(
        "hermes empty arguments string",
        '<tool_call>{"name": "list_dir", "arguments": ""}</tool_call>',
        [("list_dir", {})],
        "",
    ),
    Case(
        "hermes arguments list is an error",
        '<tool_call>{"name": "read_file", "arguments": ["a.py"]}</tool_call>',
        [("read_file", Error("must be a JSON object"))],
        "",
    ),
    Case(
        "llama.cpp entity inside a value is kept literally",
        '<tool_call>{"name": "read_file", "arguments": {"path": "src/app.py&#34;"}}</tool_call>',
        [("read_file", {"path": "src/app.py&#34;"})],
        "",
    ),
    Case(
        "llama.cpp html-escaped arguments string",
        '<tool_call>{"name": "read_file", "arguments": '
        '"{&#34;path&#34;: &#34;src/app.py&#34;}"}</tool_call>',
        [("read_file", {"path": "src/app.py"})],
        "",
        REPAIR_HTML_ENTITIES,
    ),
    Case(
        "single-quoted arguments string",
        '<tool_call>{"name": "read_file", "arguments": "{\'path\': \'a.py\'}"}</tool_call>',
        [("read_file", {"path": "a.py"})],
        "",
        REPAIR_PYTHON_LITERAL,
    ),
    Case(
        "special token after the block",
        '<tool_call>\n{"name": "list_dir", "arguments": {"path": "."}}\n</tool_call><|im_end|>',
        [("list_dir", {"path": "."})],
        "<|im_end|>",
    ),
    Case(
        "two repairs needed is an error",
        '<tool_call>{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\""\n</tool_call>',
        [("read_file", Error("more than one repair"))],
        "",
    ),
]

HERMES.append(
    Case(
        "backtick inside arguments does not hide the next call",
        '<tool_call>{"name": "run_shell", "arguments": {"command": "echo `"}}</tool_call>'
        '<tool_call>{"name": "read_file", "arguments": {"path": "`a"}}</tool_call>',
        [("run_shell", {"command": "echo `"}), ("read_file", {"path": "`a"})],
        "",
    )
)

HERMES_TEXT = [
    Case(
        "hermes unknown tool stays text",
        '<tool_call>{"name": "set_tier", "arguments": {"tier": "unsafe"}}</tool_call>',
        [],
    ),
    Case(
        "hermes extra key stays text",
        '<tool_call>{"name": "read_file", "arguments": {"path": "a"}, "id": 1}</tool_call>',
        [],
    ),
    Case(
        "hermes broken json for unknown tool stays text",
        '<tool_call>{"name": "set_tier", "arguments": {"tier": </tool_call>',
        [],
    ),
    Case(
        "hermes unterminated incomplete stays text",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "src/a',
        [],
    ),
    Case(
        "hermes unterminated needing repair stays text",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}',
        [],
    ),
]

WRITE_FILE_XML = """<tool_call>
<function=write_file>
<parameter=path>
src/app.py
</parameter>
<parameter=content>
def main() -> None:
    print("hi")


</parameter>
</function>
</tool_call>"""

XML = [
    Case(
        "xml basic",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n"
        "</tool_call>",
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "xml multi-line code strips exactly one newline each side",
        WRITE_FILE_XML,
        [
            (
                "write_file",
                {"path": "src/app.py", "content": 'def main() -> None:\n    print("hi")\n\n'},
            )
        ],
        "",
    ),
    Case(
        "xml inline values",
        "<tool_call><function=read_file><parameter=path>a.py</parameter></function></tool_call>",
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "xml two blocks",
        "I'll check both.\n<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n"
        "</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=list_dir>\n"
        "<parameter=path>\nsrc\n</parameter>\n</function>\n</tool_call>",
        [("read_file", {"path": "a.py"}), ("list_dir", {"path": "src"})],
        "I'll check both.",
    ),
    Case(
        "xml two functions in one block",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n"
        "<function=read_file>\n<parameter=path>\nb.py\n</parameter>\n</function>\n</tool_call>",
        [("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})],
        "",
    ),
    Case(
        "xml json-looking values are decoded",
        "<tool_call>\n<function=grep_search>\n<parameter=pattern>\nTODO\n</parameter>\n"
        "<parameter=max_matches>\n100\n</parameter>\n<parameter=case_sensitive>\nfalse\n"
        '</parameter>\n<parameter=globs>\n["*.py", "*.md"]\n</parameter>\n</function>\n'
        "</tool_call>",
        [
            (
                "grep_search",
                {
                    "pattern": "TODO",
                    "max_matches": 100,
                    "case_sensitive": False,
                    "globs": ["*.py", "*.md"],
                },
            )
        ],
        "",
    ),
    Case(
        "xml quotes and markup in value stay raw",
        "<tool_call>\n<function=run_shell>\n<parameter=command>\n"
        'echo "it\'s <b>&#34;ok&#34;</b>" && ls\n</parameter>\n</function>\n</tool_call>',
        [("run_shell", {"command": 'echo "it\'s <b>&#34;ok&#34;</b>" && ls'})],
        "",
    ),
    Case(
        "xml missing closing tool_call at end",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n",
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "xml function without tool_call wrapper",
        "Reading.\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>",
        [("read_file", {"path": "a.py"})],
        "Reading.",
    ),
    Case(
        "xml no parameters",
        "<tool_call>\n<function=list_dir>\n</function>\n</tool_call>",
        [("list_dir", {})],
        "",
    ),
    Case(
        "xml duplicate parameter is an error",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n"
        "<parameter=path>\n/etc/passwd\n</parameter>\n</function>\n</tool_call>",
        [("read_file", Error("given twice"))],
        "",
    ),
    Case(
        "xml junk between parameters is an error",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n"
        "and also\n</function>\n</tool_call>",
        [("read_file", Error("invalid tool call markup"))],
        "",
    ),
    Case(
        "xml then hermes keep order",
        "<tool_call><function=list_dir><parameter=path>.</parameter></function></tool_call>\n"
        '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>',
        [("list_dir", {"path": "."}), ("read_file", {"path": "a.py"})],
        "",
    ),
]

XML_TEXT = [
    Case(
        "xml unknown function stays text",
        "<tool_call>\n<function=set_tier>\n<parameter=tier>\nunsafe\n</parameter>\n</function>\n"
        "</tool_call>",
        [],
    ),
    Case(
        "xml incomplete stays text",
        "<tool_call>\n<function=write_file>\n<parameter=path>\na.py\n</parameter>\n"
        "<parameter=content>\nimport os\n",
        [],
    ),
    Case(
        "xml junk before closing tag stays text",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n"
        "oops</tool_call>",
        [],
    ),
]

THINK = [
    Case(
        "bf09 call inside think is ignored",
        "<think>\nI could call <tool_call><function=read_file><parameter=path>x</parameter>"
        "</function></tool_call>\n</think>\nNothing to do.",
        [],
    ),
    Case(
        "hermes inside think is ignored, the one after is taken",
        '<think>maybe <tool_call>{"name": "run_shell", "arguments": {"command": "rm -rf x"}}'
        '</tool_call></think>\n<tool_call>{"name": "read_file", "arguments": {"path": "a"}}'
        "</tool_call>",
        [("read_file", {"path": "a"})],
        '<think>maybe <tool_call>{"name": "run_shell", "arguments": {"command": "rm -rf x"}}'
        "</tool_call></think>",
    ),
    Case(
        "reasoning closed without opening tag (qwen3 template)",
        '<tool_call>{"name": "run_shell", "arguments": {"command": "id"}}</tool_call>'
        'hmm</think>\n<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>',
        [("read_file", {"path": "a"})],
        '<tool_call>{"name": "run_shell", "arguments": {"command": "id"}}</tool_call>hmm</think>',
    ),
    Case(
        "unterminated think hides everything after it",
        '<think>let me try <tool_call>{"name": "read_file", "arguments": {"path": "a"}}',
        [],
    ),
]

FENCED = [
    Case(
        "fenced json call",
        'I will read the file.\n```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```',
        [("read_file", {"path": "a.py"})],
        "I will read the file.",
    ),
    Case(
        "fenced tool_call language",
        '```tool_call\n{"name": "list_dir", "parameters": {"path": "src"}}\n```',
        [("list_dir", {"path": "src"})],
        "",
    ),
    Case(
        "plain fence",
        '```\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```\nDone.',
        [("read_file", {"path": "a.py"})],
        "Done.",
    ),
    Case(
        "fenced list of calls",
        '```json\n[{"name": "read_file", "arguments": {"path": "a"}}, '
        '{"name": "read_file", "arguments": {"path": "b"}}]\n```',
        [("read_file", {"path": "a"}), ("read_file", {"path": "b"})],
        "",
    ),
]

FENCED_TEXT = [
    Case(
        "fenced python is code, not a call",
        'Example:\n```python\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```',
        [],
    ),
    Case(
        "fenced json that is not a call",
        'Set this in package.json:\n```json\n{"name": "my-app", "version": "1.0.0"}\n```',
        [],
    ),
    Case(
        "quoted tool_call example in a fence",
        "The format is:\n```xml\n<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n"
        "</parameter>\n</function>\n</tool_call>\n```",
        [],
    ),
    Case(
        "unterminated fence is still being written",
        '```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n',
        [],
    ),
]

BARE = [
    Case(
        "bare object",
        '{"name": "read_file", "arguments": {"path": "a.py"}}',
        [("read_file", {"path": "a.py"})],
        "",
    ),
    Case(
        "bare list",
        ' [{"name": "read_file", "arguments": {"path": "a"}}, {"name": "list_dir", '
        '"arguments": "{}"}]\n',
        [("read_file", {"path": "a"}), ("list_dir", {})],
        "",
    ),
    Case(
        "bare object after reasoning",
        '<think>I need the file.</think>\n{"name": "read_file", "arguments": {"path": "a.py"}}',
        [("read_file", {"path": "a.py"})],
        "<think>I need the file.</think>",
    ),
    Case(
        "bare ollama arguments as object with types",
        '{"name": "grep_search", "arguments": {"pattern": "x", "max_matches": "100"}}',
        [("grep_search", {"pattern": "x", "max_matches": "100"})],
        "",
    ),
]

BARE_TEXT = [
    Case(
        "bare list with one unknown tool stays text",
        '[{"name": "read_file", "arguments": {"path": "a"}}, {"name": "nope", "arguments": {}}]',
        [],
    ),
    Case("bare empty list stays text", "[]", []),
    Case(
        "json inside prose stays text",
        'You could send {"name": "read_file", "arguments": {"path": "a.py"}} yourself.',
        [],
    ),
    Case(
        "bare duplicate keys stay text",
        '{"name": "read_file", "name": "run_shell", "arguments": {"command": "id"}}',
        [],
    ),
]

PROSE = [
    Case("prose mention of the tag", "Tools are called with a <tool_call> tag.", []),
    Case(
        "inline code holding a full call",
        'Write `<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>` to call.',
        [],
    ),
    Case(
        "prose mention then a real call",
        'I use <tool_call> blocks.\n<tool_call>{"name": "read_file", "arguments": {"path": "a"}}'
        "</tool_call>",
        [("read_file", {"path": "a"})],
        "I use <tool_call> blocks.",
    ),
    Case("plain answer", "The bug is on line 3: `x = y` should be `x == y`.", []),
    Case("empty content", "", []),
    Case(
        "function tag mentioned in prose",
        "Qwen uses <function=name> tags, and <parameter=x> too.",
        [],
    ),
]

CORPUS = HERMES + HERMES_TEXT + XML + XML_TEXT + THINK + FENCED + FENCED_TEXT + BARE + BARE_TEXT
CORPUS += PROSE


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_corpus(case: Case) -> None:
    visible, calls = extract_text_tool_calls(case.content, KNOWN_TOOLS)
    assert [call.name for call in calls] == [name for name, _ in case.calls]
    for call, (_, expected) in zip(calls, case.calls, strict=True):
        if isinstance(expected, Error):
            assert call.arguments.value is None
            assert call.arguments.error is not None and expected.reason in call.arguments.error
        else:
            assert call.arguments.error is None
            assert call.arguments.value == expected
        assert call.raw and call.raw in case.content
        # Whatever was recovered, history can only ever hold a JSON object.
        assert isinstance(json.loads(sanitize_for_history(call.raw, call.arguments)), dict)
    if case.repair is not None:
        assert calls[0].arguments.repair == case.repair
    assert visible == (case.content if case.visible is None else case.visible)


def test_corpus_size_and_outcomes() -> None:
    # Pinned totals so that a change in what the parser accepts shows up as one clear diff.
    recovered = errors = repaired = text_only = 0
    for case in CORPUS:
        _, calls = extract_text_tool_calls(case.content, KNOWN_TOOLS)
        text_only += not calls
        recovered += sum(call.arguments.value is not None for call in calls)
        repaired += sum(call.arguments.repair is not None for call in calls)
        errors += sum(call.arguments.value is None for call in calls)
    assert (len(CORPUS), recovered, repaired, errors, text_only) == (71, 47, 4, 8, 23)


def test_schema_types_xml_values() -> None:
    # With schemas, a string parameter keeps JSON-looking text (a JSON file is file content).
    tools = {
        "write_file": {
            "type": "function",
            "function": {
                "name": "write_file",
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                },
            },
        },
        "grep_search": {
            "type": "object",
            "properties": {"pattern": {"type": "string"}, "max_matches": {"type": "integer"}},
        },
    }
    content = (
        "<tool_call><function=write_file><parameter=path>42</parameter>"
        '<parameter=content>\n{"a": 1}\n</parameter></function></tool_call>'
        "<tool_call><function=grep_search><parameter=pattern>123</parameter>"
        "<parameter=max_matches>100</parameter></function></tool_call>"
    )
    _, calls = extract_text_tool_calls(content, tools)
    assert [call.arguments.value for call in calls] == [
        {"path": "42", "content": '{"a": 1}'},
        {"pattern": "123", "max_matches": 100},
    ]


def test_oversized_content_is_left_as_text() -> None:
    call = '<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>'
    content = call + "x" * MAX_CONTENT_CHARS
    assert extract_text_tool_calls(content, KNOWN_TOOLS) == (content, [])


def test_many_tag_mentions_do_not_break_parsing() -> None:
    content = "<tool_call> <function=x " * 5_000
    visible, calls = extract_text_tool_calls(content, KNOWN_TOOLS)
    assert (visible, calls) == (content, [])


def read_file_and_grep_tools() -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a text file in the workspace.\nReturns numbered lines.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "offset": {"type": "integer", "description": "First line, 1-based."},
                        "path": {"type": "string", "description": "Workspace-relative path."},
                    },
                    "required": ["path"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "grep_search",
                "description": "Search file contents with ripgrep.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "pattern": {"type": "string"},
                        "globs": {"type": "array", "items": {"type": "string"}},
                        "mode": {"type": "string", "enum": ["content", "files"]},
                    },
                    "required": ["pattern"],
                },
            },
        },
        {"type": "function", "function": {"name": "list_dir"}},
    ]


def test_tools_prompt_lists_parameters_compactly() -> None:
    prompt = render_tools_prompt(read_file_and_grep_tools())
    assert "- read_file: Read a text file in the workspace. Returns numbered lines." in prompt
    # Required parameters first.
    assert prompt.index("  - path (string, required)") < prompt.index("  - offset (integer")
    assert "  - offset (integer, optional): First line, 1-based." in prompt
    assert "  - globs (array of string, optional)" in prompt
    assert "  - mode (string, optional): One of: content, files." in prompt
    assert "- list_dir\n  (no parameters)" in prompt
    assert '"properties"' not in prompt  # not the raw JSON schema


def test_tools_prompt_is_byte_stable() -> None:
    first = render_tools_prompt(read_file_and_grep_tools())
    assert first == render_tools_prompt(read_file_and_grep_tools())
    assert first.encode() == render_tools_prompt(list(read_file_and_grep_tools())).encode()


def test_tools_prompt_example_form_round_trips() -> None:
    prompt = render_tools_prompt(read_file_and_grep_tools())
    start = prompt.index("<tool_call>")
    example = prompt[start : prompt.index("</tool_call>") + len("</tool_call>")]
    # The documented form, filled in as a model would, is what the parser accepts.
    filled = example.replace("TOOL_NAME", "read_file").replace("PARAMETER_NAME", "path")
    filled = filled.replace("\nvalue\n", "\nsrc/app.py\n")
    _, calls = extract_text_tool_calls(filled, KNOWN_TOOLS)
    assert [(call.name, call.arguments.value) for call in calls] == [
        ("read_file", {"path": "src/app.py"})
    ]
