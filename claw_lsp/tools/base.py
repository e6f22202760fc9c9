"""What every tool is made of, and the context it runs in."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from claw_lsp.agent.ports import Editor, EventSink
from claw_lsp.config import Settings
from claw_lsp.edits.applier import ChangeApplier
from claw_lsp.edits.filetext import FileText, read_file_text
from claw_lsp.permissions.paths import PathDenied, ResolvedPath, Root, Workspace

MAX_RESULT_CHARS = 24_000
MAX_TEXT_FILE_BYTES = 8_000_000

AccessKind = Literal["read", "write", "shell"]


class ToolError(Exception):
    """A failure the model should see and can act on (the turn goes on)."""


class ToolArgs(BaseModel):
    # Unknown keys are an error so that a misspelt argument is not silently ignored.
    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True)
class Access:
    """What a call will touch, for the permission decision and the approval message."""

    kind: AccessKind
    paths: tuple[ResolvedPath, ...] = ()
    command: str | None = None
    cwd: Path | None = None


@dataclass
class ToolOutput:
    content: str  # what the model sees
    summary: str  # one line for the editor (claw/event toolResult)
    ok: bool = True


@dataclass
class ReadFile:
    text: str
    version: int | None
    from_editor: bool
    meta: FileText | None


@dataclass
class ToolContext:
    workspace: Workspace
    root: Root
    editor: Editor
    applier: ChangeApplier
    settings: Callable[[], Settings]
    events: EventSink
    read_hashes: dict[Path, str] = field(default_factory=dict)
    sandbox_available: bool = False
    sandbox_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self, raw: str) -> ResolvedPath:
        try:
            return self.workspace.resolve(raw, base=self.root)
        except PathDenied as exc:
            raise ToolError(str(exc)) from None

    def read_text(self, target: ResolvedPath) -> ReadFile:
        """The editor's buffer when the file is open (unsaved edits included), else the disk."""
        snapshot = self.editor.snapshot(target.path)
        if snapshot is not None:
            return ReadFile(snapshot.text, snapshot.version, True, None)
        if not target.path.exists():
            raise ToolError(f"{target.relative} does not exist")
        if target.path.is_dir():
            raise ToolError(f"{target.relative} is a directory")
        try:
            meta = read_file_text(target.path, max_bytes=MAX_TEXT_FILE_BYTES)
        except (ValueError, OSError) as exc:
            raise ToolError(f"{target.relative}: {exc}") from None
        return ReadFile(meta.text, None, False, meta)

    def remember_read(self, target: ResolvedPath, text: str) -> None:
        self.read_hashes[target.path] = digest(text)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    Args: ClassVar[type[ToolArgs]]
    kind: ClassVar[AccessKind]

    def access(self, args: Any, ctx: ToolContext) -> Access:
        raise NotImplementedError

    async def run(self, args: Any, ctx: ToolContext) -> ToolOutput:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """The OpenAI tool schema, built once per tool class: it is sent with every request and
        must stay byte-identical anyway. Callers must not mutate it."""
        cached = _SCHEMAS.get(type(self))
        if cached is None:
            cached = _SCHEMAS[type(self)] = {
                "type": "function",
                "function": {
                    "name": self.name,
                    "description": self.description,
                    "parameters": compact_schema(self.Args.model_json_schema()),
                },
            }
        return cached


_SCHEMAS: dict[type[Tool], dict[str, Any]] = {}


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's schema minus titles and noise: every character is paid on every request."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if k not in ("title",) and not (k == "default" and v is None)
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    out = strip(schema)
    out.setdefault("properties", {})
    out["additionalProperties"] = False
    return out


def cap_text(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """Head and tail of a long result, with the cap stated so the model knows what it missed."""
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[-(limit // 3) :]
    omitted = len(text) - len(head) - len(tail)
    return (
        f"{head}\n[... {omitted} characters omitted: results are capped at {limit} "
        f"characters; narrow the request to see the rest ...]\n{tail}"
    )
