"""Shrinking a conversation that no longer fits the model's context window.

`compact_messages` replaces the older part of a conversation with one summary message and
keeps the rest verbatim. The system prompt is not part of the list (it never changes), the
instruction-file frames of the replaced part are carried over word for word, and the recent
messages stay as they were. The kept tail always starts where a backend accepts it: never
with a tool result whose call was summarised away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claw_lsp.context.rules_files import NESTED_RULES_PREAMBLE, RULES_PREAMBLE
from claw_lsp.foundation.json_values import mapping_at

KEEP_RECENT_MESSAGES = 6
SNIPPED = "[older tool output removed to fit the context window]"
MAX_OLD_TEXT = 2000
TOOL_TEXT_IN_TRANSCRIPT = 1_500
SUMMARY_OPEN = "<conversation-summary>"
SUMMARY_CLOSE = "</conversation-summary>"
ACKNOWLEDGEMENT = "Understood. I will continue from this summary."
SUMMARY_SYSTEM_PROMPT = """\
You summarise a coding session between a user and a coding agent so the agent can continue \
with less context. Write plain text, at most about 400 words, with these parts:
- Goal: what the user asked for, in their words where short.
- Done: files read, changed or created (paths) and what changed; commands run and results.
- State: what is left to do, open questions, errors still unresolved.
- Facts: names, values and decisions the agent will need again.
Do not invent anything. Do not include instructions to the agent beyond the user's requests."""

_RULES_FRAME = re.compile(
    r'<instructions-file path="[^"]*" scope="[^"]*">\n.*?</instructions-file>', re.S
)
_EDITOR_FRAME = re.compile(r"<editor-context>.*?</editor-context>\n*", re.S)
_SUMMARY_FRAME = re.compile(
    re.escape(SUMMARY_OPEN) + r"\n?(.*?)\n?" + re.escape(SUMMARY_CLOSE), re.S
)

Summariser = Callable[[str], Awaitable[str]]


@dataclass
class Compaction:
    messages: list[dict[str, Any]]
    replaced: int  # how many earlier messages the summary stands for
    summary: str
    by_model: bool


def compaction_cut(messages: Sequence[Mapping[str, Any]], keep_recent: int) -> int:
    """Index where the verbatim tail starts; 0 when there is nothing worth summarising."""
    cut = max(0, len(messages) - keep_recent)
    # A tool result must follow its call: move the cut back onto the assistant message.
    while 0 < cut < len(messages) and messages[cut].get("role") == "tool":
        cut -= 1
    # Replacing only an earlier summary (and its acknowledgement) gains nothing.
    substantive = [
        m for m in messages[:cut] if not _is_summary(m) and m.get("content") != ACKNOWLEDGEMENT
    ]
    return cut if len(substantive) >= 2 else 0


async def compact_messages(
    messages: Sequence[Mapping[str, Any]],
    *,
    summarise: Summariser | None,
    keep_recent: int = KEEP_RECENT_MESSAGES,
    transcript_chars: int = 60_000,
) -> Compaction | None:
    """The shorter conversation, or None when there is nothing older to replace."""
    cut = compaction_cut(messages, keep_recent)
    if cut == 0:
        return None
    head, tail = list(messages[:cut]), [dict(m) for m in messages[cut:]]
    text = transcript(head, transcript_chars)
    summary, by_model = "", False
    if summarise is not None:
        try:
            summary, by_model = (await summarise(text)).strip(), True
        except Exception:  # any failure of the summary request falls back to a local digest
            summary = ""
    if not summary:
        summary, by_model = local_digest(head), False
    parts = []
    rules = carried_rules(head)
    if rules:
        parts.append(rules)
    parts.append(
        f"{SUMMARY_OPEN}\nThe earlier part of this session was compacted to fit the context "
        f"window. Summary of it:\n\n{summary}\n{SUMMARY_CLOSE}"
    )
    pending = _unanswered_request(head, tail)
    if pending:
        parts.append("The request being worked on now:\n" + pending)
    new: list[dict[str, Any]] = [{"role": "user", "content": "\n\n".join(parts)}]
    if tail and tail[0].get("role") == "user":
        new.append({"role": "assistant", "content": ACKNOWLEDGEMENT})
    return Compaction(new + tail, cut, summary, by_model)


def carried_rules(messages: Sequence[Mapping[str, Any]]) -> str:
    """The instruction-file frames of these messages, under the usual preamble."""
    frames = [f for m in _user_texts(messages) for f in _RULES_FRAME.findall(m)]
    return RULES_PREAMBLE + "\n\n" + "\n\n".join(dict.fromkeys(frames)) if frames else ""


def transcript(messages: Sequence[Mapping[str, Any]], budget_chars: int) -> str:
    """The conversation as text for the summary request; long parts cut head + tail."""
    blocks: list[str] = []
    for message in messages:
        role = message.get("role")
        content = _text(message.get("content"))
        if role == "user":
            content = _RULES_FRAME.sub("[instruction file]", _EDITOR_FRAME.sub("", content))
            blocks.append("USER:\n" + _clip(content, MAX_OLD_TEXT * 2))
        elif role == "assistant":
            calls = [_call_line(c) for c in message.get("tool_calls") or []]
            blocks.append("ASSISTANT:\n" + "\n".join(filter(None, [content, *calls])))
        elif role == "tool":
            blocks.append("TOOL RESULT:\n" + _clip(content, TOOL_TEXT_IN_TRANSCRIPT))
    text = "\n\n".join(blocks)
    return _clip(text, budget_chars)


def local_digest(messages: Sequence[Mapping[str, Any]]) -> str:
    """A summary made without the model: the user's requests and the tool calls in order."""
    lines: list[str] = []
    for message in messages:
        role = message.get("role")
        content = _text(message.get("content"))
        if role == "user":
            previous = _SUMMARY_FRAME.search(content)
            if previous:
                lines.append(previous.group(1).strip())
                continue
            words = _user_words(content)
            if words:
                lines.append("- User asked: " + _clip(" ".join(words.split()), 300))
        elif role == "assistant":
            for call in message.get("tool_calls") or []:
                lines.append("- Agent called " + _call_line(call))
            if content:
                lines.append("- Agent said: " + _clip(" ".join(content.split()), 300))
    return "(made without the model)\n" + _clip("\n".join(lines), 6_000)


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


def shrink_tool_results(messages: list[dict[str, Any]], max_chars: int) -> bool:
    """Last resort when even the recent messages overflow: cut long tool results head + tail."""
    changed = False
    for message in messages:
        content = message.get("content")
        if message.get("role") == "tool" and isinstance(content, str) and len(content) > max_chars:
            message["content"] = _clip(content, max_chars)
            changed = True
    return changed


def _unanswered_request(
    head: Sequence[Mapping[str, Any]], tail: Sequence[Mapping[str, Any]]
) -> str:
    """When the cut falls inside a turn, the user's words of that turn must survive verbatim."""
    if any(m.get("role") == "user" for m in tail):
        return ""
    for message in reversed(head):
        if message.get("role") == "user":
            content = _text(message.get("content"))
            if _SUMMARY_FRAME.search(content):
                return ""
            return _RULES_FRAME.sub("", content).replace(RULES_PREAMBLE, "").strip()
    return ""


def _user_words(content: str) -> str:
    """A user message without the context frames the server added around the prompt."""
    text = _RULES_FRAME.sub("", _EDITOR_FRAME.sub("", content))
    for preamble in (RULES_PREAMBLE, NESTED_RULES_PREAMBLE):
        text = text.replace(preamble, "")
    return text.strip()


def _is_summary(message: Mapping[str, Any]) -> bool:
    return message.get("role") == "user" and SUMMARY_OPEN in _text(message.get("content"))


def _user_texts(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    return [_text(m.get("content")) for m in messages if m.get("role") == "user"]


def _call_line(call: Mapping[str, Any]) -> str:
    function = mapping_at(call, "function")
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return f"{function.get('name', '?')}({_clip(arguments, 300)})"


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = max(0, limit // 2 - 40)
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters left out ...]\n{text[-half:]}"
