"""Family detection and the text-mode dialects (issue 15): which family a model writes its
calls in, and the tools prompt and history written in that family's own format."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from claw_lsp.llm.probe import format_report, probe_backend
from claw_lsp.llm.template_hint import fetch_template_family, template_family
from claw_lsp.llm.text_mode import text_mode_messages, text_mode_system_prompt
from claw_lsp.llm.toolcalls import extract_text_tool_calls
from claw_lsp.llm.toolcalls.detect import (
    HISTORY_KEY,
    UNKNOWN,
    FamilyGuess,
    TextDialect,
    describe_line,
    detect_family,
    family_from_history,
    family_from_model_id,
    family_from_template,
)
from claw_lsp.llm.toolcalls.prompts import FAMILY_PROMPTS
from tests.support.scripted_model import ScriptedModel

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a text file in the workspace.",
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Workspace-relative path."},
                    "offset": {"type": "integer", "description": "First line, 1-based."},
                },
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "grep_search",
            "description": "Search file contents.",
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
SCHEMAS = {tool["function"]["name"]: tool for tool in TOOLS}


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3_coder"),
        ("qwen3-coder:30b", "qwen3_coder"),
        ("Qwen/Qwen2.5-Coder-7B-Instruct", "hermes"),
        ("qwen3:8b", "hermes"),
        ("NousResearch/Hermes-3-Llama-3.1-8B", "hermes"),  # the fine-tune, not its base
        ("meta-llama/Llama-3.1-8B-Instruct", "llama3"),
        ("llama3.2:3b", "llama3"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "pythonic"),
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", "mistral"),
        ("devstral:24b", "mistral"),
        ("openai/gpt-oss-20b", "harmony"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "deepseek"),
        ("moonshotai/Kimi-K2-Instruct", "kimi_k2"),
        ("zai-org/GLM-4.5-Air", "glm"),
        ("THUDM/glm-4-9b-chat", None),  # GLM-4 before 4.5 used another format
        ("CohereForAI/c4ai-command-r-plus", "command_r"),
        ("meetkai/functionary-medium-v3.1", "functionary"),
        ("scripted", None),
        ("gpt-4o", None),
    ],
)
def test_family_from_model_id(model_id: str, family: str | None) -> None:
    assert family_from_model_id(model_id) == family


@pytest.mark.parametrize(
    ("template", "family"),
    [
        ('{%- if tools %}<tool_call>\\n{"name": <function-name>, ...}</tool_call>', "hermes"),
        ("<tool_call>\n<function={{ tool_call.name }}>\n<parameter={{ k }}>", "qwen3_coder"),
        ("[AVAILABLE_TOOLS]{{ tools|tojson }}[/AVAILABLE_TOOLS] ... [TOOL_CALLS]", "mistral"),
        ("<|start|>assistant<|channel|>commentary to=functions.{{ name }}", "harmony"),
        ("{{'<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>'}}", "deepseek"),
        ("<|tool_calls_section_begin|>{%- for tc in tool_calls %}", "kimi_k2"),
        ("<tool_call>{{ tc.name }}\n<arg_key>{{ k }}</arg_key>", "glm"),
        ("<|start_header_id|>ipython<|end_header_id|>\n\n", "llama3"),
        ("{{- '<|python_tag|>' + tool_call.name + '.call(' }}", "llama3"),
        ("<|python_start|>{{ tool_call }}<|python_end|>", "pythonic"),
        ("<|START_ACTION|>{{ tool_calls }}<|END_ACTION|>", "command_r"),
        ("{% for message in messages %}{{ message.content }}{% endfor %}", None),
        (None, None),
    ],
)
def test_family_from_template(template: str | None, family: str | None) -> None:
    assert family_from_template(template) == family


def test_detection_prefers_the_template_then_the_probe_then_the_model_id() -> None:
    by_id = detect_family("Qwen/Qwen2.5-7B-Instruct")
    assert by_id == FamilyGuess("hermes", "the model id 'Qwen/Qwen2.5-7B-Instruct'", False)
    template = detect_family(
        "Qwen/Qwen2.5-7B", template_family="mistral", template_source="a template"
    )
    assert template == FamilyGuess("mistral", "a template", True)
    observed = detect_family("Qwen/Qwen2.5-7B", observed_family="glm")
    assert observed.family == "glm" and observed.sure
    unlearned = detect_family("Qwen/Qwen2.5-7B", observed_family="json")  # not learnable
    assert unlearned == detect_family("Qwen/Qwen2.5-7B")
    assert detect_family("my-alias") is UNKNOWN


def test_template_endpoints_are_read_for_the_family() -> None:
    props = {"chat_template": "... [TOOL_CALLS] ...", "default_generation_settings": {}}
    assert template_family(props, 0) == ("mistral", "the llama.cpp /props chat template")
    assert template_family({"template": "<tool_call>"}, 1)[0] == "hermes"
    assert template_family({"error": "model not found"}, 1) == (None, None)


def test_the_sessions_first_text_call_is_remembered() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", HISTORY_KEY: "json"},  # a fallback teaches nothing
        {"role": "assistant", "content": "", HISTORY_KEY: "glm"},
        {"role": "assistant", "content": "", HISTORY_KEY: "hermes"},
    ]
    assert family_from_history(messages) == "glm"
    assert family_from_history([{"role": "user", HISTORY_KEY: "glm"}]) is None


def test_only_a_sure_family_narrows_the_parsers() -> None:
    likely = detect_family("Qwen/Qwen2.5-7B-Instruct")
    assert TextDialect(likely).parse_family is None  # the id alone: every parser runs
    assert TextDialect(likely).prompt_family == "hermes"  # ... but prompts in its dialect
    assert TextDialect(likely, "mistral").parse_family == "mistral"
    sure = FamilyGuess("glm", "the llama.cpp /props chat template", True)
    assert TextDialect(sure, "mistral").parse_family == "glm"
    assert describe_line(TextDialect(likely).describe()) == (
        "hermes (not sure: the model id 'Qwen/Qwen2.5-7B-Instruct'); "
        "parsers: all families' parsers, in priority order"
    )
    assert describe_line(TextDialect(sure).describe()) == (
        "glm (sure: the llama.cpp /props chat template); parsers: glm, json only"
    )
    assert describe_line(TextDialect(likely, "hermes").describe()).startswith(
        "hermes (sure: the first call seen in this session); parsers: qwen3_coder, hermes"
    )


DISTINCTIVE = {
    "hermes": ("<tools>\n", '{"name": <function-name>, "arguments": <args-json-object>}'),
    "qwen3_coder": ("<name>read_file</name>", "<function=example_function_name>"),
    "functionary": ("Use the function 'read_file'", '<function=example_function_name>{"'),
    "mistral": ("[AVAILABLE_TOOLS][", '[TOOL_CALLS][{"name": "tool_name"'),
    "llama3": ('"parameters": dictionary of argument name', '{"name": "read_file"'),
    "pythonic": ("[func_name1(params_name1=params_value1", '[{"name": "read_file"'),
    "glm": ("<arg_key>{arg-key-1}</arg_key>", '"name": "read_file"'),
    "harmony": ("namespace functions {", "path: string,\n// First line, 1-based.\noffset?:"),
    "deepseek": ("### read_file", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name"),
    "kimi_k2": ('# Tools\n[{"type": "function"', "functions.TOOL_NAME:0"),
    "command_r": ("def read_file(path: str, offset: Optional[int])", "Action: ```json"),
}


@pytest.mark.parametrize("family", sorted(FAMILY_PROMPTS))
def test_each_dialect_describes_the_tools_in_its_own_format(family: str) -> None:
    prompt = text_mode_system_prompt("You are claw.", TOOLS, family)
    again = text_mode_system_prompt("You are claw.", json.loads(json.dumps(TOOLS)), family)
    assert prompt.encode() == again.encode()  # byte-stable
    assert prompt.startswith("You are claw.\n\n")
    assert all(name in prompt for name in SCHEMAS)
    for marker in DISTINCTIVE[family]:
        assert marker in prompt, marker
    # The prompt itself is never mistaken for a call.
    assert extract_text_tool_calls(prompt, SCHEMAS, family)[1] == []


def test_an_unknown_family_keeps_the_generic_prompt() -> None:
    generic = text_mode_system_prompt("You are claw.", TOOLS)
    assert text_mode_system_prompt("You are claw.", TOOLS, None) == generic
    assert text_mode_system_prompt("You are claw.", TOOLS, "json") == generic
    assert "<function=TOOL_NAME>" in generic and "- read_file:" in generic


HISTORY = [
    {"role": "user", "content": "Look at a.py"},
    {
        "role": "assistant",
        "content": "Reading it.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "a.py", "offset": 2}'},
            },
            {
                "id": "c2",
                "type": "function",
                "function": {"name": "grep_search", "arguments": '{"pattern": "def f\\\\("}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "1: x = 1"},
    {"role": "tool", "tool_call_id": "c2", "content": "a.py:1"},
]


@pytest.mark.parametrize("family", [*sorted(FAMILY_PROMPTS), None])
def test_history_is_rewritten_in_the_dialect_and_parses_back(family: str | None) -> None:
    wire = text_mode_messages(HISTORY, family)
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    assistant = wire[1]["content"]
    assert assistant.startswith("Reading it.\n\n")
    _, calls = extract_text_tool_calls(assistant, SCHEMAS, family)
    assert [(c.name, c.arguments.value) for c in calls] == [
        ("read_file", {"path": "a.py", "offset": 2}),
        ("grep_search", {"pattern": "def f\\("}),
    ]
    results = wire[2]["content"]
    assert results.count("<tool_response>") == 2 and "1: x = 1" in results
    assert text_mode_messages(HISTORY, family) == wire  # deterministic


@pytest.fixture
def server() -> Iterator[ScriptedModel]:
    scripted = ScriptedModel(model="local").start()
    yield scripted
    scripted.stop()


def test_the_template_is_read_from_llama_cpp_props(server: ScriptedModel) -> None:
    server.routes["/props"] = {"chat_template": "{{ '<tool_call>' }}{{ tool_call|tojson }}"}
    found = fetch_template_family(server.base_url, "sk-key", "local")
    assert found == ("hermes", "the llama.cpp /props chat template")


def test_the_template_is_read_from_ollama_api_show(server: ScriptedModel) -> None:
    server.routes["/api/show"] = {"template": "{{- if .ToolCalls }}[TOOL_CALLS] [", "details": {}}
    assert fetch_template_family(server.base_url, None, "local")[0] == "mistral"


def test_no_template_means_no_family(server: ScriptedModel) -> None:
    assert fetch_template_family(server.base_url, None, "local") == (None, "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert fetch_template_family(f"http://127.0.0.1:{port}/v1", None, "x") == (None, "")


async def test_the_probe_records_the_template_and_its_text_call(server: ScriptedModel) -> None:
    server.models_payload = {"data": [{"id": "local", "owned_by": "llamacpp"}]}
    server.routes["/props"] = {"chat_template": "<arg_key>{{ k }}</arg_key>"}
    glm_call = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
    server.add({"text": glm_call + "</tool_call>"}, {"text": "ok"})
    report = await probe_backend(base_url=server.base_url, api_key=None, model="local")
    assert report.backend_kind == "llama.cpp" and report.tool_calls == "text"
    assert report.tool_call_family == "glm" and report.text_call_family == "glm"
    assert "chat template tool-call family: glm (the llama.cpp /props" in format_report(report)
    guess = detect_family(
        "local",
        template_family=report.tool_call_family,
        template_source=report.tool_call_family_source or "",
        observed_family=report.text_call_family,
    )
    assert guess == FamilyGuess("glm", "the llama.cpp /props chat template", True)
