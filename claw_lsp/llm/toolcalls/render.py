"""Calls written in each family's own syntax: the text-mode history (the model sees its earlier
calls as it was taught to write them) and the round-trip property tests of the parsers.

Every renderer is deterministic (same calls, same bytes) and its output parses back to the
same calls with the family's parser, within each format's limits: XML values cannot hold their
own closing tag, and exactly one line break next to a tag belongs to the markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Call = tuple[str, Mapping[str, Any]]
RESULT_OPEN, RESULT_CLOSE = "<tool_response>", "</tool_response>"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str:
    """An XML value: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else _json(value)


def qwen_xml(calls: Sequence[Call]) -> str:
    blocks = []
    for name, arguments in calls:
        lines = ["<tool_call>", f"<function={name}>"]
        for key, value in arguments.items():
            lines.extend([f"<parameter={key}>", _text(value), "</parameter>"])
        lines.extend(["</function>", "</tool_call>"])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def hermes(calls: Sequence[Call]) -> str:
    return "\n".join(
        f"<tool_call>\n{_json({'name': name, 'arguments': dict(arguments)})}\n</tool_call>"
        for name, arguments in calls
    )


def functionary(calls: Sequence[Call]) -> str:
    return "\n".join(f"<function={name}>{_json(dict(args))}</function>" for name, args in calls)


def mistral(calls: Sequence[Call]) -> str:
    listed = [{"name": name, "arguments": dict(arguments)} for name, arguments in calls]
    return "[TOOL_CALLS]" + _json(listed)


def llama3(calls: Sequence[Call]) -> str:
    return "\n".join(
        _json({"name": name, "parameters": dict(arguments)}) for name, arguments in calls
    )


def pythonic(calls: Sequence[Call]) -> str:
    # repr() of JSON values is a Python literal that ast.literal_eval reads back exactly.
    rendered = [
        f"{name}({', '.join(f'{key}={value!r}' for key, value in arguments.items())})"
        for name, arguments in calls
    ]
    return "[" + ", ".join(rendered) + "]"


def glm(calls: Sequence[Call]) -> str:
    blocks = []
    for name, arguments in calls:
        lines = [f"<tool_call>{name}"]
        for key, value in arguments.items():
            lines.append(f"<arg_key>{key}</arg_key>\n<arg_value>{_text(value)}</arg_value>")
        blocks.append("\n".join([*lines, "</tool_call>"]))
    return "\n".join(blocks)


def harmony(calls: Sequence[Call]) -> str:
    return "".join(
        f"<|start|>assistant<|channel|>commentary to=functions.{name} <|constrain|>json"
        f"<|message|>{_json(dict(arguments))}<|call|>"
        for name, arguments in calls
    )


def deepseek(calls: Sequence[Call]) -> str:
    inner = "".join(
        f"<｜tool▁call▁begin｜>{name}<｜tool▁sep｜>{_json(dict(arguments))}<｜tool▁call▁end｜>"
        for name, arguments in calls
    )
    return f"<｜tool▁calls▁begin｜>{inner}<｜tool▁calls▁end｜>"


def kimi_k2(calls: Sequence[Call]) -> str:
    inner = "".join(
        f"<|tool_call_begin|>functions.{name}:{index}<|tool_call_argument_begin|>"
        f"{_json(dict(arguments))}<|tool_call_end|>"
        for index, (name, arguments) in enumerate(calls)
    )
    return f"<|tool_calls_section_begin|>{inner}<|tool_calls_section_end|>"


def command_r(calls: Sequence[Call]) -> str:
    listed = [{"tool_name": name, "parameters": dict(arguments)} for name, arguments in calls]
    return f"Action: ```json\n{json.dumps(listed, ensure_ascii=False, indent=4)}\n```"


def fenced_json(calls: Sequence[Call]) -> str:
    listed = [{"name": name, "arguments": dict(arguments)} for name, arguments in calls]
    return "```json\n" + _json(listed[0] if len(listed) == 1 else listed) + "\n```"


RENDERERS: dict[str, Callable[[Sequence[Call]], str]] = {
    "hermes": hermes,
    "qwen3_coder": qwen_xml,
    "functionary": functionary,
    "mistral": mistral,
    "llama3": llama3,
    "pythonic": pythonic,
    "glm": glm,
    "harmony": harmony,
    "deepseek": deepseek,
    "kimi_k2": kimi_k2,
    "command_r": command_r,
    "json": fenced_json,
}


def render_calls(calls: Sequence[Call], family: str | None = None) -> str:
    """``calls`` as the family writes them; unknown family: the Qwen3-Coder XML of the generic
    tools prompt."""
    if not calls:
        return ""
    return RENDERERS.get(family or "", qwen_xml)(calls)


def render_result(content: str) -> str:
    """A tool result as text. The same wrapper for every family: the parsers never read calls
    inside it (regions.py), whatever the result says."""
    return f"{RESULT_OPEN}\n{content}\n{RESULT_CLOSE}"
