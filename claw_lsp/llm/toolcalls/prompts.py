"""The tools section of the system prompt in each family's own dialect (text mode).

A model follows the format it was trained on best, so the tools and the call syntax are
described the way that family's chat template does it: Hermes ``<tools>`` JSON for Qwen2.5 and
Hermes, Qwen3-Coder's XML, Mistral's ``[AVAILABLE_TOOLS]``, Llama 3's JSON instructions, and so
on. Every renderer is deterministic: the same tools give the same bytes (prefix caches).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Tools = Sequence[Mapping[str, Any]]


def _functions(tools: Tools) -> list[Mapping[str, Any]]:
    found = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found.append(function)
    return found


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tool_lines(tools: Tools) -> str:
    return "\n".join(_json({"type": "function", "function": dict(f)}) for f in _functions(tools))


def _properties(function: Mapping[str, Any]) -> tuple[Mapping[str, Any], set[str]]:
    parameters = function.get("parameters")
    if not isinstance(parameters, Mapping):
        return {}, set()
    properties = parameters.get("properties")
    required = parameters.get("required")
    return (
        properties if isinstance(properties, Mapping) else {},
        set(required) if isinstance(required, list) else set(),
    )


def hermes(tools: Tools) -> str:
    return (
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n"
        f"<tools>\n{_tool_lines(tools)}\n</tools>\n\n"
        "For each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n'
    )


def qwen3_coder(tools: Tools) -> str:
    lines = ["# Tools", "", "You have access to the following functions:", "", "<tools>"]
    for function in _functions(tools):
        lines += ["<function>", f"<name>{function['name']}</name>"]
        if isinstance(function.get("description"), str):
            lines.append(f"<description>{function['description'].strip()}</description>")
        lines.append("<parameters>")
        properties, required = _properties(function)
        for name, schema in properties.items():
            schema = schema if isinstance(schema, Mapping) else {}
            lines += ["<parameter>", f"<name>{name}</name>", f"<type>{_type(schema)}</type>"]
            if isinstance(schema.get("description"), str):
                lines.append(f"<description>{schema['description'].strip()}</description>")
            lines.append("</parameter>")
        if required:
            lines.append(f"<required>{_json(sorted(required))}</required>")
        lines += ["</parameters>", "</function>"]
    lines += ["</tools>", "", _QWEN3_CODER_FORMAT]
    return "\n".join(lines)


_QWEN3_CODER_FORMAT = """\
If you choose to call a function ONLY reply in the following format with NO suffix:

<tool_call>
<function=example_function_name>
<parameter=example_parameter_1>
value_1
</parameter>
<parameter=example_parameter_2>
This is the value for the second parameter
that can span
multiple lines
</parameter>
</function>
</tool_call>

<IMPORTANT>
Reminder:
- Function calls MUST follow the specified format: an inner <function=...></function> block \
must be nested within <tool_call></tool_call> XML tags
- Required parameters MUST be specified
- You may provide optional reasoning for your function call in natural language BEFORE the \
function call, but NOT after
- If there is no function call available, answer the question like normal with your current \
knowledge and do not tell the user about function calls
</IMPORTANT>
"""


def _type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return " | ".join(str(item) for item in declared)
    return str(declared) if isinstance(declared, str) else "any"


def mistral(tools: Tools) -> str:
    listed = [{"type": "function", "function": dict(f)} for f in _functions(tools)]
    return (
        f"[AVAILABLE_TOOLS]{_json(listed)}[/AVAILABLE_TOOLS]\n\n"
        "To call tools, reply with [TOOL_CALLS] followed by a JSON list of the calls, then stop:\n"
        '[TOOL_CALLS][{"name": "tool_name", "arguments": {"parameter": "value"}}]\n'
    )


def llama3(tools: Tools) -> str:
    definitions = "\n\n".join(_json(dict(f)) for f in _functions(tools))
    return (
        "Given the following functions, please respond with a JSON for a function call with its "
        "proper arguments that best answers the given prompt.\n\n"
        'Respond in the format {"name": function name, "parameters": dictionary of argument '
        "name and its value}. Do not use variables.\n\n"
        f"{definitions}\n"
    )


def pythonic(tools: Tools) -> str:
    listed = _json([dict(f) for f in _functions(tools)])
    return (
        "You are an expert in composing functions. You are given a question and a set of "
        "possible functions. Based on the question, you will need to make one or more "
        "function/tool calls to achieve the purpose.\n"
        "If you decide to invoke any of the function(s), you MUST put it in the format of "
        "[func_name1(params_name1=params_value1, params_name2=params_value2...), "
        "func_name2(params)]\n"
        "You SHOULD NOT include any other text in the response if you call a function.\n"
        "Here is a list of functions in JSON format that you can invoke.\n\n"
        f"{listed}\n"
    )


def functionary(tools: Tools) -> str:
    sections = []
    for function in _functions(tools):
        description = str(function.get("description") or "").strip()
        definition = _json(dict(function))
        sections.append(f"Use the function '{function['name']}' to: {description}\n{definition}")
    return (
        "You have access to the following functions:\n\n"
        + "\n\n".join(sections)
        + "\n\nIf you choose to call a function ONLY reply in the following format:\n"
        '<function=example_function_name>{"example_name": "example_value"}</function>\n'
    )


def glm(tools: Tools) -> str:
    return (
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n"
        f"<tools>\n{_tool_lines(tools)}\n</tools>\n\n"
        "For each function call, output the function name and arguments within the following "
        "XML format:\n<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n"
        "<arg_value>{arg-value-1}</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n"
        "<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>\n"
    )


def _typescript(schema: Mapping[str, Any]) -> str:
    if isinstance(schema.get("enum"), list):
        return " | ".join(_json(value) for value in schema["enum"])
    declared = schema.get("type")
    if declared == "array":
        items = schema.get("items")
        return f"{_typescript(items) if isinstance(items, Mapping) else 'any'}[]"
    return {"integer": "number", "object": "object"}.get(str(declared), str(declared or "any"))


def harmony(tools: Tools) -> str:
    lines = ["# Tools", "", "## functions", "", "namespace functions {", ""]
    for function in _functions(tools):
        if isinstance(function.get("description"), str):
            lines.append(f"// {' '.join(function['description'].split())}")
        properties, required = _properties(function)
        if not properties:
            lines += [f"type {function['name']} = () => any;", ""]
            continue
        lines.append(f"type {function['name']} = (_: {{")
        for name, schema in properties.items():
            schema = schema if isinstance(schema, Mapping) else {}
            if isinstance(schema.get("description"), str):
                lines.append(f"// {' '.join(schema['description'].split())}")
            optional = "" if name in required else "?"
            lines.append(f"{name}{optional}: {_typescript(schema)},")
        lines += ["}) => any;", ""]
    lines += ["} // namespace functions", "", _HARMONY_FORMAT]
    return "\n".join(lines)


_HARMONY_FORMAT = """\
Calls to these tools must go to the commentary channel, one message per call:
<|start|>assistant<|channel|>commentary to=functions.TOOL_NAME <|constrain|>json<|message|>\
{"parameter": "value"}<|call|>
"""


def deepseek(tools: Tools) -> str:
    lines = ["## Tools", "You have access to the following tools:", ""]
    for function in _functions(tools):
        lines += [f"### {function['name']}"]
        lines.append(f"Description: {str(function.get('description') or '').strip()}")
        lines += ["", f"Parameters: {_json(function.get('parameters') or {})}", ""]
    lines.append(_DEEPSEEK_FORMAT)
    return "\n".join(lines)


_DEEPSEEK_FORMAT = """\
IMPORTANT: ALWAYS adhere to this exact format for tool use:
<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>tool_call_arguments\
<｜tool▁call▁end｜>{additional_tool_calls}<｜tool▁calls▁end｜>

Where:
- `tool_call_name` must be an exact match to one of the available tools
- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema
- For multiple tool calls, chain them directly without separators or spaces
"""


def kimi_k2(tools: Tools) -> str:
    listed = _json([{"type": "function", "function": dict(f)} for f in _functions(tools)])
    return (
        f"# Tools\n{listed}\n\n"
        "To call tools, write them in a tool calls section, numbering the calls of one reply "
        "0, 1, 2 ...:\n<|tool_calls_section_begin|><|tool_call_begin|>functions.TOOL_NAME:0"
        '<|tool_call_argument_begin|>{"parameter": "value"}<|tool_call_end|>'
        "<|tool_calls_section_end|>\n"
    )


_PYTHON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_PYTHON_TYPES |= {"array": "list", "object": "dict"}


def command_r(tools: Tools) -> str:
    blocks = []
    for function in _functions(tools):
        properties, required = _properties(function)
        signature, arguments = [], []
        for name, schema in properties.items():
            schema = schema if isinstance(schema, Mapping) else {}
            kind = _PYTHON_TYPES.get(str(schema.get("type")), "Any")
            kind = kind if name in required else f"Optional[{kind}]"
            signature.append(f"{name}: {kind}")
            arguments.append(f"        {name} ({kind}): {schema.get('description') or ''!s}")
        description = str(function.get("description") or "").strip()
        args = "\n\n    Args:\n" + "\n".join(arguments) if arguments else ""
        blocks.append(
            f"```python\ndef {function['name']}({', '.join(signature)}) -> List[Dict]:\n"
            f'    """{description}{args}\n    """\n    pass\n```'
        )
    return (
        "## Available Tools\nHere is a list of tools that you have available to you:\n\n"
        + "\n\n".join(blocks)
        + "\n\n"
        + _COMMAND_R_FORMAT
    )


_COMMAND_R_FORMAT = """\
Write 'Action:' followed by a json-formatted list of actions that you want to perform in order \
to produce a good response to the user's last input, formatted as a list of json objects:
Action: ```json
[
    {
        "tool_name": title of the tool in the specification,
        "parameters": a dict of parameters to input into the tool as they are defined in the \
specs, or {} if it takes no parameters
    }
]```
"""

FAMILY_PROMPTS: dict[str, Callable[[Tools], str]] = {
    "hermes": hermes,
    "qwen3_coder": qwen3_coder,
    "functionary": functionary,
    "mistral": mistral,
    "llama3": llama3,
    "pythonic": pythonic,
    "glm": glm,
    "harmony": harmony,
    "deepseek": deepseek,
    "kimi_k2": kimi_k2,
    "command_r": command_r,
}
