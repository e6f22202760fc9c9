"""The "no native tools" mode, for backends whose server cannot take `tools` (ISSUE 6.5).

The tools are described in the system prompt (text_tools_prompt), the model writes calls as
Qwen3-Coder XML, and toolcall_text parses them back. History is stored exactly as in native
mode (assistant `tool_calls` + `tool` results), so a session can switch modes; only the wire
form differs: calls are written back as the XML the model was taught, and tool results become
user messages, because templates of models without tool support reject role `tool`.

Selection (`choose_tool_mode`): `toolMode` = native | text | auto (default auto). Auto uses a
probe result that is already known (doctor or /status ran earlier); it never probes by itself,
because probing costs real model calls. The choice is fixed per model instance, so the system
prompt stays byte-stable for the sessions it serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from claw_lsp.foundation.json_values import str_at
from claw_lsp.llm.base import ToolMode
from claw_lsp.llm.text_tools_prompt import render_tools_prompt

CONFIGURED_MODES = ("native", "text", "auto")


def choose_tool_mode(configured: str | None, probed_tool_calls: str | None) -> ToolMode:
    """The mode for a new model instance; `probed_tool_calls` is ProbeReport.tool_calls."""
    if configured in ("native", "text"):
        return configured  # type: ignore[return-value]
    # Only a probe that really got no tool call back, structured or as text, means "text":
    # a failed or skipped probe says nothing about the backend.
    return "text" if probed_tool_calls == "none" else "native"


def text_mode_system_prompt(system_prompt: str, tools: Sequence[Mapping[str, Any]]) -> str:
    """The system prompt with the tools described in it; the same input gives the same bytes."""
    return system_prompt.rstrip("\n") + "\n\n" + render_tools_prompt(tools)


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """One call in the XML form of the tools prompt (strings as-is, anything else as JSON)."""
    lines = ["<tool_call>", f"<function={name}>"]
    for key, value in arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.extend([f"<parameter={key}>", shown, "</parameter>"])
    lines.extend(["</function>", "</tool_call>"])
    return "\n".join(lines)


def _call_arguments(call: Mapping[str, Any]) -> Mapping[str, Any]:
    function = call.get("function")
    raw = function.get("arguments") if isinstance(function, Mapping) else None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        value = None
    return value if isinstance(value, Mapping) else {}


def _call_name(call: Mapping[str, Any]) -> str:
    function = call.get("function")
    name = function.get("name") if isinstance(function, Mapping) else None
    return name if isinstance(name, str) else "unknown"


def _tool_response(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    return f"<tool_response>\n{content if isinstance(content, str) else ''}\n</tool_response>"


def text_mode_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Wire messages (already stripped of our own keys) rewritten for a backend without tools.

    Consecutive user-side messages are merged: several templates insist that user and
    assistant alternate.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            parts = [str(message.get("content") or "").strip()]
            parts += [render_call(_call_name(c), _call_arguments(c)) for c in _calls(message)]
            out.append({"role": "assistant", "content": "\n\n".join(p for p in parts if p)})
            continue
        if role == "tool":
            text = _tool_response(message)
        elif role == "user":
            text = str_at(message, "content")
        else:
            out.append(dict(message))
            continue
        if out and out[-1]["role"] == "user":
            out[-1] = {"role": "user", "content": f"{out[-1]['content']}\n\n{text}"}
        else:
            out.append({"role": "user", "content": text})
    return out


def _calls(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    calls = message.get("tool_calls")
    return [c for c in calls if isinstance(c, Mapping)] if isinstance(calls, list) else []
