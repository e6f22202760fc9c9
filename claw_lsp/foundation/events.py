"""The events a turn emits, in order, to whatever front door is listening (`claw/event` over
LSP, the terminal in the CLI, ACP session updates)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

EventKind = Literal[
    "text",  # {delta}: streamed assistant text
    "toolCall",  # {id, name, arguments}
    "toolResult",  # {id, ok, summary}
    "approval",  # {tool, decision}
    "edit",  # {uri, applied}
    "proposal",  # {proposal, uri, diff, ...}
    "unsaved",  # {uris}: agent-edited buffers a command would not see
    "attachment",  # {type, name, chars}: what an @-mention attached to the prompt
    "notice",  # {message}
    "error",  # {message}
    "done",  # {stopReason}
    # Issue 18. A subagent's events carry `parent: {session, turn, callId}` besides these.
    "todo",  # {todos: [{id, content, status}]}: the session's todo list, on every change
    "plan",  # {plan}: the Markdown plan a plan-mode turn handed over
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


class EventSink(Protocol):
    def emit(self, kind: str, payload: dict[str, Any]) -> None: ...


class NullEvents:
    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        pass
