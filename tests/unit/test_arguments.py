"""Tool-call argument parsing: strict JSON, at most one documented repair, safe history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from claw_lsp.llm.arguments import (
    MAX_ARGUMENTS_CHARS,
    REPAIR_APPENDED_BRACE,
    REPAIR_CONTROL_CHARACTERS,
    REPAIR_DROPPED_TRAILING_TAGS,
    REPAIR_HTML_ENTITIES,
    REPAIR_PYTHON_LITERAL,
    ParsedArguments,
    parse_arguments,
    sanitize_for_history,
)

VALID_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("json string", '{"path": "a.py"}', {"path": "a.py"}),
    ("ollama dict", {"path": "a.py", "limit": 10}, {"path": "a.py", "limit": 10}),
    ("none", None, {}),
    ("empty string", "", {}),
    ("whitespace", "  \n ", {}),
    ("null", "null", {}),
    ("empty object", "{}", {}),
    ("surrounding whitespace", '  {"a": 1}\n', {"a": 1}),
    (
        "nested quotes",
        '{"command": "grep -n \\"def main\\" src"}',
        {"command": 'grep -n "def main" src'},
    ),
    ("unicode", '{"text": "caf\\u00e9 ☕"}', {"text": "café ☕"}),
    # llama.cpp template leak inside a value: the raw text parses, so nothing is decoded.
    ("entity inside parsable value", '{"path": "src/app.py&#34;"}', {"path": "src/app.py&#34;"}),
    (
        "types kept as sent",
        '{"max_matches": "100", "flag": true}',
        {"max_matches": "100", "flag": True},
    ),
    ("bool in dict kept", {"max_matches": True}, {"max_matches": True}),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in VALID_CASES], ids=[c[0] for c in VALID_CASES]
)
def test_valid_arguments_parse_without_repair(raw: Any, expected: dict[str, Any]) -> None:
    parsed = parse_arguments(raw)
    assert parsed == ParsedArguments(value=expected, error=None, repair=None)


REPAIRED_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("missing final brace", '{"path": "a.py"', {"path": "a.py"}, REPAIR_APPENDED_BRACE),
    (
        "missing final brace after nested object",
        '{"edit": {"old": "a", "new": "b"}',
        {"edit": {"old": "a", "new": "b"}},
        REPAIR_APPENDED_BRACE,
    ),
    (
        "missing brace after keyword",
        '{"recursive": true',
        {"recursive": True},
        REPAIR_APPENDED_BRACE,
    ),
    (
        "closing tag junk",
        '{"path": "a.py"}</tool_call>',
        {"path": "a.py"},
        REPAIR_DROPPED_TRAILING_TAGS,
    ),
    (
        "several tags and special tokens",
        '{"path": "a.py"}\n</parameter>\n</function><|im_end|>',
        {"path": "a.py"},
        REPAIR_DROPPED_TRAILING_TAGS,
    ),
    (
        "python literal",
        "{'path': 'a.py', 'recursive': True}",
        {"path": "a.py", "recursive": True},
        REPAIR_PYTHON_LITERAL,
    ),
    ("html entities", "{&#34;path&#34;: &#34;a.py&#34;}", {"path": "a.py"}, REPAIR_HTML_ENTITIES),
    (
        "html entities decode all markupsafe escapes",
        "{&quot;command&quot;: &quot;make &amp;&amp; echo &lt;ok&gt; &#39;x&#39;&quot;}",
        {"command": "make && echo <ok> 'x'"},
        REPAIR_HTML_ENTITIES,
    ),
    (
        "raw newline in string",
        '{"content": "line 1\nline 2"}',
        {"content": "line 1\nline 2"},
        REPAIR_CONTROL_CHARACTERS,
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected", "repair"),
    [c[1:] for c in REPAIRED_CASES],
    ids=[c[0] for c in REPAIRED_CASES],
)
def test_single_documented_repair(raw: str, expected: dict[str, Any], repair: str) -> None:
    parsed = parse_arguments(raw)
    assert parsed == ParsedArguments(value=expected, error=None, repair=repair)


INVALID_CASES: list[tuple[str, Any, str]] = [
    # SECURITY.md BF-07: truncated, with a leaked tag.
    (
        "bf07 truncated leaked tag",
        '{"cmd": "timeout 7\\n7", "echo X\\n</parameter":',
        "invalid arguments JSON",
    ),
    # BF-08: a truncated string value could be any command, so it is never closed for the model.
    ("bf08 truncated string", '{"command": "mkdir -p test/{test1,test2', "Unterminated string"),
    ("missing two braces", '{"edit": {"old": "a"', "invalid arguments JSON"),
    ("trailing number may be truncated", '{"limit": 10', "invalid arguments JSON"),
    ("two concatenated objects", '{"path": "a"}{"path": "b"}', "unexpected data after the object"),
    (
        "prose after object",
        '{"path": "a"} and then I will edit it',
        "unexpected data after the object",
    ),
    ("extra closing brace", '{"path": "a"}}', "unexpected data after the object"),
    ("list", '["a.py"]', "must be a JSON object"),
    ("string", '"a.py"', "must be a JSON object"),
    ("number", "42", "must be a JSON object"),
    ("python list", "['a', 'b']", "invalid arguments JSON"),
    ("python set is not json", "{'a': {1, 2}}", "invalid arguments JSON"),
    ("python tuple is not json", "{'a': (1, 2)}", "invalid arguments JSON"),
    ("nan", '{"limit": NaN}', "NaN is not allowed"),
    ("infinity", '{"limit": Infinity}', "Infinity is not allowed"),
    ("duplicate keys", '{"path": "a.py", "path": "/etc/passwd"}', "duplicate key 'path'"),
    ("nested too deeply", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ("two repairs needed", '{"content": "a\nb"', "invalid arguments JSON"),
    ("not a string or mapping", 42, "must be a JSON object"),
    ("dict with non json value", {"path": object()}, "not JSON types"),
    ("dict with non string key", {1: "a"}, "not JSON types"),
    ("dict with nan", {"limit": float("nan")}, "not JSON types"),
    ("oversized string", '{"content": "' + "x" * MAX_ARGUMENTS_CHARS + '"}', "exceed"),
    ("oversized dict", {"content": "x" * MAX_ARGUMENTS_CHARS}, "exceed"),
]


@pytest.mark.parametrize(
    ("raw", "reason"), [c[1:] for c in INVALID_CASES], ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_arguments_give_a_short_error(raw: Any, reason: str) -> None:
    parsed = parse_arguments(raw)
    assert parsed.value is None
    assert parsed.repair is None
    assert parsed.error is not None
    assert reason in parsed.error
    assert len(parsed.error) < 200  # never echoes the raw text back to the model


def test_error_names_the_position() -> None:
    parsed = parse_arguments('{"path": "a.py" "limit": 3}')
    assert parsed.error == "invalid arguments JSON: Expecting ',' delimiter at char 16"


def test_mapping_input_is_copied_not_aliased() -> None:
    raw = {"path": "a.py"}
    parsed = parse_arguments(raw)
    raw["path"] = "/etc/passwd"
    assert parsed.value == {"path": "a.py"}


ALL_RAW = (
    [c[1] for c in VALID_CASES] + [c[1] for c in REPAIRED_CASES] + [c[1] for c in INVALID_CASES]
)


@pytest.mark.parametrize("raw", ALL_RAW, ids=[f"case{i}" for i in range(len(ALL_RAW))])
def test_history_always_holds_a_json_object(raw: Any) -> None:
    parsed = parse_arguments(raw)
    stored = sanitize_for_history(raw, parsed)
    # What vLLM re-parses on the next request must always be a valid JSON object.
    assert isinstance(json.loads(stored), dict)
    if parsed.value is None:
        assert stored == "{}"
    else:
        assert json.loads(stored) == parsed.value


def test_history_is_canonical_and_never_the_raw_text() -> None:
    raw = '{"path": "a.py"}</tool_call>'
    parsed = parse_arguments(raw)
    assert sanitize_for_history(raw, parsed) == '{"path": "a.py"}'
    truncated = '{"cmd": "rm -rf /tmp/x", "echo'
    assert sanitize_for_history(truncated, parse_arguments(truncated)) == "{}"


def test_history_escapes_lone_surrogates() -> None:
    raw = '{"text": "\\ud800"}'
    stored = sanitize_for_history(raw, parse_arguments(raw))
    stored.encode("utf-8")  # must be writable to a UTF-8 JSONL file
    assert json.loads(stored) == {"text": "\ud800"}
