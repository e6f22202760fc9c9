"""Pure mappings between claw's vocabulary and ACP's: tool names to tool kinds and titles,
claw stop reasons to ACP ones, the todo list to a plan, stored history to session updates.
Nothing here does I/O, so each mapping is tested on its own (tests/acp/test_translate.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from acp import helpers
from acp.schema import (
    AgentMessageChunk,
    PlanEntry,
    StopReason,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolKind,
    UserMessageChunk,
)

from claw_lsp.agent.todos import todos_from_plan
from claw_lsp.context.mentions import ATTACHMENT_FRAMES
from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.secrets import redact

MAX_TOOL_OUTPUT_CHARS = 8_000  # what one tool call's content shows; the model saw all of it
MAX_TITLE_CHARS = 120
MAX_CHILD_STEPS = 30  # a subagent's last tool calls shown in its task call

# Built-in and language-server tools by name; an MCP tool (`server__tool`) runs whatever its
# server does, which nothing in the call tells us: "other".
_KINDS: dict[str, ToolKind] = {
    "read_file": "read",
    "skill": "read",
    "hover": "read",
    "diagnostics": "read",
    "list_dir": "search",
    "glob": "search",
    "grep": "search",
    "definition": "search",
    "references": "search",
    "workspace_symbols": "search",
    "mcp_tools": "search",
    "write_file": "edit",
    "edit_file": "edit",
    "apply_patch": "edit",
    "rename_symbol": "edit",
    "shell": "execute",
    "todo_write": "think",
    "todos": "think",
    "exit_plan_mode": "switch_mode",
    "task": "other",  # a subagent: whatever its own calls do (nested in its content)
}
_STOP_REASONS: dict[str, StopReason] = {
    "done": "end_turn",
    "local": "end_turn",
    "plan": "end_turn",  # a plan handed over: the turn ended as it should
    "cancelled": "cancelled",
    "maxTurns": "max_turn_requests",
}
_PLAN_STATUS = {"pending": "pending", "in_progress": "in_progress", "completed": "completed"}
_PATCH_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)", re.M)
_FRAMES = re.compile(r"<(review|rules|editor-context|instructions)[^>]*>.*?</\1>\s*", re.S)


def tool_kind(name: str) -> ToolKind:
    return _KINDS.get(name, "other")


def stop_reason(claw_reason: str) -> StopReason:
    """ACP has no "error" stop reason: the front door answers an errored turn with an error."""
    return _STOP_REASONS.get(claw_reason, "end_turn")


def shown(text: Any, limit: int | None = None) -> str:
    """Anything model- or file-made on its way to the client: secrets masked, control, bidi and
    zero-width characters escaped (the client renders it)."""
    out = escape_for_display(redact(str(text)), multiline=True)
    if limit is not None and len(out) > limit:
        out = out[:limit] + f"\n… ({len(out) - limit} more characters)"
    return out


def tool_title(name: str, arguments: Any) -> str:
    """`read_file app.py`, `shell: pytest -q`: what the call is about, on one line."""
    args = arguments if isinstance(arguments, Mapping) else {}
    subject = ""
    for key in ("command", "path", "pattern", "query", "symbol", "name"):
        value = args.get(key)
        if isinstance(value, str) and value:
            subject = value
            break
    title = f"{name}: {subject}" if subject else name
    title = " ".join(shown(title).split())
    return title[:MAX_TITLE_CHARS]


def tool_locations(root: Path, arguments: Any) -> list[ToolCallLocation]:
    """The files a call names, as absolute paths under its folder (for "follow along")."""
    args = arguments if isinstance(arguments, Mapping) else {}
    raw: list[str] = []
    if isinstance(args.get("path"), str):
        raw.append(args["path"])
    if isinstance(args.get("patch"), str):
        raw.extend(_PATCH_FILE.findall(args["patch"]))
    locations = []
    for item in raw[:20]:
        path = Path(item)
        absolute = path if path.is_absolute() else root / path
        line = args.get("offset") if isinstance(args.get("offset"), int) else None
        locations.append(ToolCallLocation(path=str(absolute), line=line))
    return locations


def plan_entries(payload: Mapping[str, Any]) -> list[PlanEntry]:
    """The todo list (event `todo`, `{todos: [{id, content, status}]}`) as an ACP plan."""
    entries = []
    for item in payload.get("todos") or []:
        if not isinstance(item, Mapping):
            continue
        status = _PLAN_STATUS.get(str(item.get("status")), "pending")
        entries.append(
            helpers.plan_entry(shown(item.get("content", ""), 500), status=status)  # type: ignore[arg-type]
        )
    return entries


def plan_steps(plan: str) -> list[PlanEntry]:
    """A handed-over plan's steps as an ACP plan: the todo list accepting it seeds."""
    return plan_entries({"todos": [t.to_wire() for t in todos_from_plan(plan)]})


def prompt_text_of(content: Any) -> str:
    """A stored user message without what claw put around the prompt (attachments, rules,
    review notes): what the person typed, for the replayed history."""
    text = content if isinstance(content, str) else _joined_text(content)
    text = ATTACHMENT_FRAMES.sub("", text)
    text = _FRAMES.sub("", text)
    return text.strip()


def _joined_text(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))


HistoryUpdate = UserMessageChunk | AgentMessageChunk | ToolCallStart | ToolCallProgress


def replay(messages: Iterable[Mapping[str, Any]], root: Path) -> list[HistoryUpdate]:
    """A session's messages as the updates that would have streamed (session/load)."""
    updates: list[HistoryUpdate] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            text = prompt_text_of(message.get("content"))
            if text:
                updates.append(helpers.update_user_message_text(shown(text)))
        elif role == "assistant":
            answer = message.get("content")
            if isinstance(answer, str) and answer.strip():
                updates.append(helpers.update_agent_message_text(shown(answer)))
            for call in message.get("tool_calls") or []:
                updates.append(_replayed_call(call, root))
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            output = str(message.get("content") or "")
            failed = output.startswith("Error")
            updates.append(
                helpers.update_tool_call(
                    call_id,
                    status="failed" if failed else "completed",
                    content=[text_content(shown(output, MAX_TOOL_OUTPUT_CHARS))],
                )
            )
    return updates


def _replayed_call(call: Any, root: Path) -> ToolCallStart:
    function = call.get("function") if isinstance(call, Mapping) else None
    name = str(function.get("name", "tool")) if isinstance(function, Mapping) else "tool"
    arguments = _parsed(function.get("arguments") if isinstance(function, Mapping) else None)
    return helpers.start_tool_call(
        str(call.get("id") or "") if isinstance(call, Mapping) else "",
        tool_title(name, arguments),
        kind=tool_kind(name),
        status="pending",
        locations=tool_locations(root, arguments),
    )


def _parsed(raw: Any) -> Any:
    import json

    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return None


def text_content(text: str) -> Any:
    return helpers.tool_content(helpers.text_block(text))


def usage_update(used: int, size: int) -> Any:
    from acp.schema import UsageUpdate

    return UsageUpdate(session_update="usage_update", used=max(0, used), size=max(0, size))


def commands_update(entries: Iterable[Mapping[str, Any]]) -> Any:
    """claw's slash commands (built-in and the folder's custom ones) for the client's picker."""
    from acp.schema import AvailableCommand, AvailableCommandInput, UnstructuredCommandInput

    commands = []
    for entry in entries:
        hint = str(entry.get("argumentHint") or "")
        commands.append(
            AvailableCommand(
                name=shown(entry.get("name", "")).lstrip("/"),
                description=shown(entry.get("description") or "", 300),
                input=AvailableCommandInput(UnstructuredCommandInput(hint=shown(hint)))
                if hint
                else None,
            )
        )
    return helpers.update_available_commands(commands)
