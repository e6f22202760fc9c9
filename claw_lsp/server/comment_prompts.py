"""`claw:` prompt comments: a line comment that starts with `claw:` in any common comment
syntax (`# claw: add type hints`, `// claw: handle the empty list`, `-- claw: ...`,
`/* claw: ... */`, `<!-- claw: ... -->`, `; claw: ...`) is a prompt a plain client can run as
a code action. Quote characters are not openers: a string literal is never a prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Line-comment openers of the common languages; a block opener may be closed on the same line.
_OPENERS = r"(?:#+|//+|--+|;+|%+|!|\*|/\*+|<!--|\(\*|\{-|REM\b)"
_CLOSERS = r"(?:\*+/|-->|\*\)|-\})"
_PROMPT = re.compile(
    rf"^[ \t]*{_OPENERS}[ \t]*claw:[ \t]*(?P<text>.*?)[ \t]*{_CLOSERS}?[ \t]*$", re.IGNORECASE
)
MAX_PROMPT_CHARS = 500
MAX_LINE_CHARS = 4 * MAX_PROMPT_CHARS


@dataclass(frozen=True)
class CommentPrompt:
    line: int
    text: str  # the prompt, without the comment syntax
    raw: str  # the whole line as it is in the buffer (what is removed)


def parse_comment_prompt(line_text: str) -> str | None:
    """The prompt of a `claw:` comment line, or None (not one, or empty)."""
    line_text = line_text.rstrip("\r")
    if len(line_text) > MAX_LINE_CHARS or "\n" in line_text or "\r" in line_text:
        return None
    match = _PROMPT.match(line_text)
    if match is None:
        return None
    text = match.group("text").strip()
    return text[:MAX_PROMPT_CHARS] if text else None


def prompts_in(lines: list[str], first: int, last: int) -> list[CommentPrompt]:
    """The prompt comments on lines first..last (inclusive, clamped)."""
    out = []
    for number in range(max(first, 0), min(last, len(lines) - 1) + 1):
        raw = lines[number].rstrip("\r\n")
        text = parse_comment_prompt(raw)
        if text is not None:
            out.append(CommentPrompt(number, text, raw))
    return out
