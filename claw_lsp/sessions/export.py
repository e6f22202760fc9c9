"""Render a stored session as a readable Markdown transcript (`/export`)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from claw_lsp.foundation.json_values import mapping_at
from claw_lsp.foundation.secrets import redact
from claw_lsp.sessions.store import LoadedSession

TOOL_RESULT_MAX_CHARS = 2_000


def export_markdown(loaded: LoadedSession) -> str:
    header = loaded.header
    out: list[str] = [f"# {_one_line(header.get('title')) or 'Untitled session'}", ""]
    out.append(f"- Session: `{_one_line(header.get('id'))}`")
    out.append(f"- Created: {_one_line(header.get('created')) or 'unknown'}")
    out.append(f"- Folder: `{_one_line(header.get('folderUri'))}`")
    forked = header.get("forkedFrom")
    if isinstance(forked, Mapping):
        out.append(
            f"- Forked from: `{_one_line(forked.get('session'))}` "
            f"at turn {_one_line(forked.get('turn'))}"
        )
    if loaded.skipped:
        out.append(f"- {loaded.skipped} damaged record(s) skipped")
    out.append("")

    tool_names: dict[str, str] = {}
    current_turn: object = None
    for record in loaded.records:
        kind = record.get("type")
        turn = record.get("turn")
        if kind == "message" and isinstance(record.get("message"), Mapping):
            if turn != current_turn and turn is not None:
                current_turn = turn
                out += [f"## Turn {_one_line(turn)}", ""]
            out += _message(record["message"], tool_names)
        elif kind == "turn":
            out += [_turn_end(record), ""]
        elif kind == "compaction":
            out += _compaction(record)
    # Stored records are already redacted; this guards transcripts of older or edited files.
    return redact("\n".join(out).rstrip() + "\n")


def _message(message: Mapping[str, Any], tool_names: dict[str, str]) -> list[str]:
    role = message.get("role")
    text = _content_text(message.get("content"))
    if role == "user":
        return ["**User**", "", text, ""]
    if role == "system":
        return _details("System prompt", _truncate(text))
    if role == "tool":
        call_id = str(message.get("tool_call_id") or "")
        name = tool_names.get(call_id) or str(message.get("name") or "tool")
        return _details(f"Result of <code>{html.escape(name)}</code>", _truncate(text))
    lines = ["**Assistant**", ""]
    if text:
        lines += [text, ""]
    for call in message.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        function = mapping_at(call, "function")
        name = str(function.get("name") or "?")
        if call.get("id"):
            tool_names[str(call["id"])] = name
        lines += [f"Tool call: `{_one_line(name)}`", "", *_fenced(_arguments(function), "json")]
    return lines


def _turn_end(record: Mapping[str, Any]) -> str:
    parts = [f"stop reason `{_one_line(record.get('stopReason')) or 'unknown'}`"]
    usage = record.get("usage")
    if isinstance(usage, Mapping):
        # Turn records carry the wire form (promptTokens); older files the OpenAI form.
        prompt = usage.get("promptTokens", usage.get("prompt_tokens"))
        completion = usage.get("completionTokens", usage.get("completion_tokens", 0))
        if prompt is not None:
            parts.append(f"{prompt} prompt + {completion} completion tokens")
    edits = record.get("edits")
    if isinstance(edits, list) and edits:
        parts.append(f"{len(edits)} edit(s)")
    return f"*Turn {_one_line(record.get('turn'))} ended: {', '.join(parts)}*"


def _compaction(record: Mapping[str, Any]) -> list[str]:
    replaced = record.get("replaced")
    note = f"> **Compaction** at turn {_one_line(record.get('turn'))}"
    if isinstance(replaced, int):
        note += f": {replaced} earlier message(s) replaced by this summary"
    summary = str(record.get("summary") or "")
    return [note, ">", *(f"> {line}" for line in summary.splitlines()), ""]


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, Mapping):
                parts.append(f"[{part.get('type', 'attachment')}]")
        return "\n".join(parts)
    return ""


def _arguments(function: Mapping[str, Any]) -> str:
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments  # malformed model output is shown as it came
    return json.dumps(arguments, indent=2, ensure_ascii=False)


def _truncate(text: str) -> str:
    if len(text) <= TOOL_RESULT_MAX_CHARS:
        return text
    total = len(text.encode("utf-8", "replace"))
    shown = text[:TOOL_RESULT_MAX_CHARS]
    return f"{shown}\n… [truncated: {len(shown.encode('utf-8', 'replace'))} of {total} bytes]"


def _details(summary: str, body: str) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *_fenced(body), "</details>", ""]


def _fenced(text: str, language: str = "") -> list[str]:
    # A fence longer than any backtick run inside keeps tool output from closing it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence, ""]


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""
