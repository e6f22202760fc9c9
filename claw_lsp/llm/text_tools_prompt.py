"""System-prompt section for backends without native tool calling ("no native tools" mode).

When the model's family is known, the tools are described in that family's own dialect
(toolcalls/prompts.py). Otherwise the model is taught the Qwen3-Coder XML form, which the
parsers read back: XML needs no escaping of code inside parameter values, which small models
get wrong in JSON. That generic text is compact (one line per parameter, not the JSON schema).
Both are byte-stable for the same input, so backends can reuse their prompt cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MAX_TOOL_DESCRIPTION_CHARS = 300
_MAX_PARAMETER_DESCRIPTION_CHARS = 160
_MAX_ENUM_VALUES = 12

_INSTRUCTIONS = """\
# Tools

You can call the tools listed below. To call a tool, write a block in exactly this form:

<tool_call>
<function=TOOL_NAME>
<parameter=PARAMETER_NAME>
value
</parameter>
</function>
</tool_call>

Rules:
- One <tool_call> block per call; you may write several blocks in a row. After the last block,
  stop writing and wait: the results arrive in the next message. Never invent results.
- One <parameter=...> block per parameter. Write text values as-is, without quotes or escaping;
  multi-line values are fine. Write numbers, true/false, arrays and objects as JSON.
- Always give required parameters; leave out optional ones you do not need.
- Only call the tools listed here, using their exact names.

Available tools:"""


def _one_line(text: Any, limit: int) -> str:
    if not isinstance(text, str):
        return ""
    collapsed = " ".join(text.split())
    if len(collapsed) <= limit:
        return collapsed
    return collapsed[: limit - 3].rstrip() + "..."


def _type_label(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return " or ".join(str(item) for item in declared if item != "null") or "any"
    if declared == "array":
        items = schema.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("type"), str):
            return f"array of {items['type']}"
        return "array"
    if isinstance(declared, str):
        return declared
    if "enum" in schema:
        return "enum"
    return "any"


def _parameter_line(name: str, schema: Mapping[str, Any], required: bool) -> str:
    details = [_type_label(schema), "required" if required else "optional"]
    line = f"  - {name} ({', '.join(details)})"
    enum = schema.get("enum")
    description = _one_line(schema.get("description"), _MAX_PARAMETER_DESCRIPTION_CHARS)
    if isinstance(enum, list) and enum:
        shown = ", ".join(str(value) for value in enum[:_MAX_ENUM_VALUES])
        more = ", ..." if len(enum) > _MAX_ENUM_VALUES else ""
        description = f"{description} One of: {shown}{more}.".strip()
    return f"{line}: {description}" if description else line


def _tool_section(function: Mapping[str, Any]) -> list[str]:
    name = function.get("name")
    if not isinstance(name, str) or not name:
        return []
    description = _one_line(function.get("description"), _MAX_TOOL_DESCRIPTION_CHARS)
    lines = [f"- {name}: {description}" if description else f"- {name}"]
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if not isinstance(properties, Mapping) or not properties:
        lines.append("  (no parameters)")
        return lines
    required_names = parameters.get("required") if isinstance(parameters, Mapping) else None
    required = set(required_names) if isinstance(required_names, list) else set()
    # Required parameters first (stable within each group) so small models see them early.
    ordered = sorted(properties, key=lambda parameter: parameter not in required)
    for parameter in ordered:
        schema = properties[parameter]
        if isinstance(schema, Mapping):
            lines.append(_parameter_line(str(parameter), schema, parameter in required))
    return lines


def render_tools_prompt(tools: Sequence[Mapping[str, Any]], family: str | None = None) -> str:
    """Describe OpenAI tool schemas and the call form, for a system prompt: in ``family``'s
    dialect when there is one, else the generic XML form."""
    from claw_lsp.llm.toolcalls.prompts import FAMILY_PROMPTS  # text mode only: not at start

    if family in FAMILY_PROMPTS:
        return FAMILY_PROMPTS[family](tools)
    lines = [_INSTRUCTIONS]
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping):
            lines.extend(_tool_section(function))
    return "\n".join(lines) + "\n"
