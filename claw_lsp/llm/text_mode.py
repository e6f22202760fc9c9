"""The "no native tools" mode, for backends whose server cannot take `tools` (ISSUE 6.5).

The tools are described in the system prompt (text_tools_prompt) in the model's own dialect
when its family is known (Qwen3-Coder XML otherwise), the model writes calls that way, and the
text parsers read them back. History is stored exactly as in native mode (assistant
`tool_calls` + `tool` results), so a session can switch modes; only the wire form differs:
calls are written back in the dialect the model was taught, and tool results become user
messages, because templates of models without tool support reject role `tool`.

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
from claw_lsp.llm.toolcalls.render import render_calls, render_result

CONFIGURED_MODES = ("native", "text", "auto")


def choose_tool_mode(configured: str | None, probed_tool_calls: str | None) -> ToolMode:
    """The mode for a new model instance; `probed_tool_calls` is ProbeReport.tool_calls."""
    if configured in ("native", "text"):
        return configured  # type: ignore[return-value]
    # Only a probe that really got no tool call back, structured or as text, means "text":
    # a failed or skipped probe says nothing about the backend.
    return "text" if probed_tool_calls == "none" else "native"


def text_mode_system_prompt(
    system_prompt: str, tools: Sequence[Mapping[str, Any]], family: str | None = None
) -> str:
    """The system prompt with the tools described in it, in ``family``'s dialect when known;
    the same input gives the same bytes."""
    return system_prompt.rstrip("\n") + "\n\n" + render_tools_prompt(tools, family)


def render_call(name: str, arguments: Mapping[str, Any], family: str | None = None) -> str:
    """One call as the tools prompt taught it (generic: XML, strings as-is, the rest as JSON)."""
    return render_calls([(name, arguments)], family)


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
    return render_result(content if isinstance(content, str) else "")


def text_mode_messages(
    messages: Iterable[Mapping[str, Any]], family: str | None = None
) -> list[dict[str, Any]]:
    """Wire messages (already stripped of our own keys) rewritten for a backend without tools,
    the calls in ``family``'s dialect (the one the tools prompt taught).

    Consecutive user-side messages are merged: several templates insist that user and
    assistant alternate.
    """
    return TextModeForms().of(messages, family)


_Piece = tuple[str, Any]  # ("user", its text) for a user-side message, else ("as-is", a dict)


def _piece(message: Mapping[str, Any], family: str | None) -> _Piece:
    role = message.get("role")
    if role == "assistant":
        calls = [(_call_name(c), _call_arguments(c)) for c in _calls(message)]
        parts = [str(message.get("content") or "").strip(), render_calls(calls, family)]
        return "as-is", {"role": "assistant", "content": "\n\n".join(p for p in parts if p)}
    if role == "tool":
        return "user", _tool_response(message)
    if role == "user":
        return "user", str_at(message, "content")
    return "as-is", dict(message)


class TextModeForms:
    """The text-mode rewrite of each wire message made once (issue 22: text mode rebuilt its
    whole history every step) and handed back as the same object while the message is, so
    that sizes measured by identity stay valid, as native mode's wire forms (llm/wire.py).
    Wire messages are rebuilt, never changed in place, when their message changes; an entry
    holds its message, so ids stay unique. A run of merged user-side messages is cached by
    its members."""

    def __init__(self) -> None:
        self._pieces: dict[int, tuple[Mapping[str, Any], str | None, _Piece]] = {}
        self._runs: dict[tuple[int, ...], tuple[tuple[Mapping[str, Any], ...], dict[str, Any]]]
        self._runs = {}

    def of(
        self, messages: Iterable[Mapping[str, Any]], family: str | None = None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        run: list[Mapping[str, Any]] = []
        seen = 0
        for message in messages:
            seen += 1
            kind, value = self._piece_of(message, family)
            if kind == "user":
                run.append(message)
                continue
            if run:
                out.append(self._merged(run, family))
                run = []
            out.append(value)
        if run:
            out.append(self._merged(run, family))
        if len(self._pieces) > 2 * seen + 64:  # compacted away, or another session's
            self._pieces.clear()
            self._runs.clear()
        return out

    def _piece_of(self, message: Mapping[str, Any], family: str | None) -> _Piece:
        entry = self._pieces.get(id(message))
        if entry is None or entry[0] is not message or entry[1] != family:
            entry = self._pieces[id(message)] = (message, family, _piece(message, family))
        return entry[2]

    def _merged(self, run: Sequence[Mapping[str, Any]], family: str | None) -> dict[str, Any]:
        key = tuple(id(m) for m in run)
        cached = self._runs.get(key)
        if cached is not None and all(a is b for a, b in zip(cached[0], run, strict=True)):
            return cached[1]
        text = "\n\n".join(self._piece_of(m, family)[1] for m in run)
        merged = {"role": "user", "content": text}
        self._runs[key] = (tuple(run), merged)
        return merged


def _calls(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    calls = message.get("tool_calls")
    return [c for c in calls if isinstance(c, Mapping)] if isinstance(calls, list) else []
