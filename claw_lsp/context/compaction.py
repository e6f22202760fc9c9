"""Shrinking a conversation that no longer fits the model's context window."""

from __future__ import annotations

from typing import Any

KEEP_RECENT_MESSAGES = 6
SNIPPED = "[older tool output removed to fit the context window]"
MAX_OLD_TEXT = 2000


def snip_old_tool_results(messages: list[dict[str, Any]]) -> bool:
    """Replace old tool outputs and long old texts with short notes, keeping the first user
    message (repository instructions) and the recent messages verbatim. True if it shrank."""
    changed = False
    cutoff = max(1, len(messages) - KEEP_RECENT_MESSAGES)
    for index, message in enumerate(messages[:cutoff]):
        if index == 0:
            continue
        content = message.get("content")
        if not isinstance(content, str):
            continue
        if message.get("role") == "tool" and content != SNIPPED and len(content) > 200:
            message["content"] = SNIPPED
            changed = True
        elif len(content) > MAX_OLD_TEXT:
            message["content"] = content[:MAX_OLD_TEXT] + "\n[... shortened to fit the context]"
            changed = True
    return changed
