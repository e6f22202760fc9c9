"""@-mentions in a prompt: what they attach to the turn's user message.

A small registry of mention kinds, each a pattern and a resolver; the MCP resource kind
(`@server:uri`, claw_lsp/mcp/resources.py) is one entry, and other kinds (files, symbols)
are more entries. Attachments are fetched when the turn starts, capped one by one and
together (`budget_chars`), and rendered as one `<attachments>` block before the user's words,
where /context counts them. A mention no kind claims stays plain text.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape

MAX_ATTACHMENT_CHARS = 24_000
MIN_ROOM_CHARS = 200  # less room than this left: the attachment is refused, not a stub
ATTACHMENTS_BLOCK = re.compile(r"<attachments>\n.*?</attachments>", re.S)


@dataclass(frozen=True)
class Attachment:
    mention: str  # as the user wrote it
    source: str  # what it is, for the model and /context ("MCP resource ... of server ...")
    text: str = ""
    error: str | None = None  # why it could not be attached (the model is told)


Resolver = Callable[[re.Match[str]], Awaitable[Attachment | None]]


@dataclass(frozen=True)
class MentionKind:
    name: str
    pattern: re.Pattern[str]
    resolve: Resolver  # None: not this kind's after all (the text stays as typed)


@dataclass
class MentionRegistry:
    kinds: list[MentionKind] = field(default_factory=list)

    def register(self, kind: MentionKind) -> None:
        self.kinds = [k for k in self.kinds if k.name != kind.name] + [kind]

    async def expand(self, prompt: str, *, budget_chars: int) -> list[Attachment]:
        """The prompt's mentions in the order written, each once, within the budget."""
        found: list[tuple[int, str, MentionKind, re.Match[str]]] = []
        for kind in self.kinds:
            for match in kind.pattern.finditer(prompt):
                found.append((match.start(), match.group(0), kind, match))
        seen: set[str] = set()
        out: list[Attachment] = []
        room = max(0, budget_chars)
        for _, text, kind, match in sorted(found, key=lambda item: item[0]):
            if text in seen:
                continue
            seen.add(text)
            attachment = await kind.resolve(match)
            if attachment is None:
                continue
            if attachment.error is None:
                if room < min(MIN_ROOM_CHARS, len(attachment.text) + 1):
                    attachment = Attachment(
                        attachment.mention,
                        attachment.source,
                        error="not attached: the attachments already fill their share of the "
                        "context window",
                    )
                else:
                    capped = cap_text(attachment.text, min(MAX_ATTACHMENT_CHARS, room))
                    room -= len(capped)
                    attachment = Attachment(attachment.mention, attachment.source, capped)
            out.append(attachment)
        return out


def cap_text(text: str, limit: int) -> str:
    """The head of a long attachment, with the cut stated."""
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit} more characters not attached: the attachment cap]"
    return text[: max(0, limit - len(note))] + note


def render_attachments(attachments: list[Attachment]) -> str:
    """One block for the user message; "" when there is nothing."""
    if not attachments:
        return ""
    parts = ["<attachments>"]
    for item in attachments:
        mention, source = escape(item.mention, quote=True), escape(item.source, quote=True)
        if item.error is not None:
            error = escape(item.error, quote=True)
            parts.append(f'<attachment mention="{mention}" source="{source}" error="{error}"/>')
        else:
            parts.append(f'<attachment mention="{mention}" source="{source}">')
            parts.append(item.text.rstrip("\n"))
            parts.append("</attachment>")
    parts.append("</attachments>")
    return "\n".join(parts)
