"""@-mentions in a prompt: `@path`, `@path:10-40`, `@dir/`, `@selection`, `@diagnostics`,
`@session:<id>` and `@<server>:<uri>` (an MCP resource) attach exactly what they name.

Expansion happens on the server, into the turn's user message, as `<attachment>` frames ahead
of the prompt (the prompt itself stays as typed). A mention that does not resolve (a missing
file, a path outside the workspace folder, a credential-like file) stays literal text and the
user gets a notice: never an error, and never a read outside the folder. Each kind is one
entry in `MENTION_KINDS`; sources that know more (MCP servers) register resolvers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.context.editor_context import diagnostic_line
from claw_lsp.edits.filetext import read_file_text
from claw_lsp.foundation.ports import Editor
from claw_lsp.permissions.paths import PathDenied, ResolvedPath, Root, Workspace

_MENTION = re.compile(r"(?:^|(?<=[\s(\[{]))@([^\s`]+)")
_TRAILING = ".,;!?)]}'\""
_RANGE = re.compile(r"^(?P<path>.+?):(?P<start>\d+)(?:-(?P<end>\d+))?$")
_CLOSING_TAG = re.compile(r"</\s*attachment", re.IGNORECASE)
ATTACHED_FRAME = re.compile(r'<attachment kind="([\w-]+)" name="([^"]*)"[^>]*>')
MAX_FILE_LINES = 2000
MAX_LINE_CHARS = 2000
MAX_ATTACHMENT_CHARS = 60_000
MAX_TOTAL_CHARS = 120_000
MAX_LISTING_ENTRIES = 300
MAX_MENTIONS = 20

ResourceReader = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class Attachment:
    kind: str  # file | dir | selection | diagnostics | session | resource
    name: str  # what the user wrote, without the @
    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def render(self) -> str:
        extra = "".join(f' {k}="{_attr(v)}"' for k, v in self.attributes.items())
        body = _CLOSING_TAG.sub("<\\/attachment", self.body.rstrip("\n"))
        head = f'<attachment kind="{self.kind}" name="{_attr(self.name)}"{extra}>'
        return f"{head}\n{body}\n</attachment>"


@dataclass
class MentionSources:
    """What a mention may draw on; the front door and the agent fill it in."""

    workspace: Workspace
    root: Root
    editor: Editor
    selection: str | None = None
    diagnostics: Sequence[Mapping[str, Any]] = ()
    session_answers: Callable[[str], list[str] | None] = lambda session_id: None
    resources: Mapping[str, ResourceReader] = field(default_factory=dict)  # by server name
    budget_chars: int = MAX_TOTAL_CHARS  # for all attachments of one prompt


@dataclass
class Expansion:
    attachments: list[Attachment] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def render(self) -> str:
        return "\n\n".join(a.render() for a in self.attachments)


def mention_names(prompt: str) -> list[str]:
    """The mentions in a prompt, in order, each once (trailing punctuation is not part of it)."""
    names: list[str] = []
    for match in _MENTION.finditer(prompt):
        name = match.group(1).rstrip(_TRAILING)
        if name and name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


async def expand_mentions(prompt: str, sources: MentionSources) -> Expansion:
    out = Expansion()
    used = 0
    for name in mention_names(prompt):
        try:
            attachment = await _resolve(name, sources)
        except _Literal as literal:
            if literal.notice:
                out.notices.append(f"@{name} left as text: {literal.notice}")
            continue
        if used + len(attachment.body) > sources.budget_chars:
            out.notices.append(f"@{name} not attached: the attachments budget is used up")
            continue
        used += len(attachment.body)
        out.attachments.append(attachment)
    return out


class _Literal(Exception):
    """The mention stays text; `notice` (possibly empty) says why."""

    def __init__(self, notice: str = "") -> None:
        super().__init__(notice)
        self.notice = notice


async def _resolve(name: str, sources: MentionSources) -> Attachment:
    if name == "selection":
        if not sources.selection:
            raise _Literal("there is no selection")
        return Attachment("selection", name, _capped(sources.selection))
    if name == "diagnostics":
        if not sources.diagnostics:
            raise _Literal("the active file has no diagnostics")
        lines = [diagnostic_line(dict(d)) for d in sources.diagnostics[:100]]
        return Attachment("diagnostics", name, "\n".join(lines))
    head, _, rest = name.partition(":")
    if head == "session" and rest:
        answers = sources.session_answers(rest)
        if answers is None:
            raise _Literal(f"no session {rest!r} in this folder")
        return Attachment("session", name, _capped("\n\n---\n\n".join(answers) or "(no answers)"))
    if rest and head in sources.resources:
        try:
            text = await sources.resources[head](rest)
        except Exception as exc:  # a failing server loses the attachment, not the turn
            raise _Literal(f"the {head} server could not read it ({type(exc).__name__})") from None
        return Attachment("resource", name, _capped(text), {"server": head})
    return _path_attachment(name, sources)


def _path_attachment(name: str, sources: MentionSources) -> Attachment:
    path_like = "/" in name or "." in name
    raw, lines = name, None
    ranged = _RANGE.match(name)
    if ranged:
        raw = ranged.group("path")
        start = int(ranged.group("start"))
        lines = (start, int(ranged.group("end") or start))
    try:
        target = sources.workspace.resolve(raw, base=sources.root)
    except PathDenied as exc:
        raise _Literal(str(exc) if path_like else "") from None
    if sources.workspace.sensitive(target):
        raise _Literal("the file may hold credentials; ask the agent to read it (it will ask you)")
    if raw.endswith("/") or os.path.isdir(target.path):
        if not os.path.isdir(target.path):
            raise _Literal("no such folder in the workspace")
        return Attachment("dir", name, _listing(target, sources.workspace))
    text = _file_text(target, sources.editor)
    if text is None:
        raise _Literal("no such file in the workspace" if path_like or ranged else "")
    return _file_attachment(name, target, text, lines)


def _file_text(target: ResolvedPath, editor: Editor) -> str | None:
    snapshot = editor.snapshot(target.path)
    if snapshot is not None:
        return snapshot.text
    if not os.path.isfile(target.path):
        return None
    try:
        return read_file_text(target.path, max_bytes=8_000_000).text
    except (OSError, ValueError):
        return None


def _file_attachment(
    name: str, target: ResolvedPath, text: str, lines: tuple[int, int] | None
) -> Attachment:
    all_lines = text.splitlines()
    first, last = lines if lines else (1, len(all_lines))
    first, last = max(1, first), min(max(first, last), len(all_lines), first + MAX_FILE_LINES - 1)
    rows = []
    for number in range(first, last + 1):
        line = all_lines[number - 1] if number <= len(all_lines) else ""
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + " [...]"
        rows.append(f"{number:>6}\t{line}")
    body = _capped("\n".join(rows) if rows else "(empty file)")
    attributes = {"path": target.relative, "lines": f"{first}-{last}", "of": str(len(all_lines))}
    return Attachment("file", name, body, attributes)


def _listing(target: ResolvedPath, workspace: Workspace) -> str:
    rows: list[str] = []
    try:
        entries = sorted(os.scandir(target.path), key=lambda e: e.name)
    except OSError as exc:
        raise _Literal(f"cannot list it ({exc.strerror})") from None
    for entry in entries[:MAX_LISTING_ENTRIES]:
        relative = f"{target.relative}/{entry.name}" if target.relative != "." else entry.name
        if workspace.sensitive(ResolvedPath(target.path / entry.name, target.root, relative)):
            continue
        shown = (
            entry.name.encode("unicode_escape").decode("ascii")
            if "\n" in entry.name
            else entry.name
        )
        if entry.is_symlink():
            rows.append(f"{shown}@ (symlink, not followed)")
        elif entry.is_dir():
            rows.append(shown + "/")
        else:
            rows.append(shown)
    if len(entries) > MAX_LISTING_ENTRIES:
        rows.append(f"[{len(entries) - MAX_LISTING_ENTRIES} more entries not shown]")
    return "\n".join(rows) or "(empty directory)"


def attachment_budget(window_tokens: int) -> int:
    """Attachments may take 40% of the context window (at ~3.5 characters a token)."""
    return max(8_000, min(MAX_TOTAL_CHARS, int(window_tokens * 0.4 * 3.5)))


def _capped(text: str) -> str:
    if len(text) <= MAX_ATTACHMENT_CHARS:
        return text
    return text[:MAX_ATTACHMENT_CHARS] + f"\n[... cut at {MAX_ATTACHMENT_CHARS} characters]"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def attached_in(history: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of every attachment in the session's user messages, for /context."""
    found: list[tuple[str, str]] = []
    for message in history:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            found.extend(ATTACHED_FRAME.findall(content))
    return found
