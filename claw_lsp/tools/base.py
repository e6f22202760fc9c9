"""What a tool is, where tools come from, and the context a call runs in.

A tool is data: a name, a description, a JSON schema for its arguments, an access kind (see
permissions/access.py: the kind decides which tier runs it without asking and which rules
apply), a validator that turns the model's arguments into the runner's input, a planner that
says what a call will touch, and the runner. Tools come from a `ToolSource` (the built-ins,
the editor's language servers, MCP servers ...); every call, whatever its source, goes
through the one Orchestrator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from claw_lsp.config import Settings
from claw_lsp.edits.applier import ChangeApplier
from claw_lsp.edits.filetext import FileText, read_file_text
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import Approver, Editor
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import PathDenied, ResolvedPath, Root, Workspace
from claw_lsp.tools.agent_ports import Delegator, PlanDesk, TodoBoard

MAX_RESULT_CHARS = 24_000
MAX_TEXT_FILE_BYTES = 8_000_000


class ToolError(Exception):
    """A failure the model should see and can act on (the turn goes on)."""


class ToolArgs(BaseModel):
    # Unknown keys are an error so that a misspelt argument is not silently ignored.
    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True)
class Access:
    """What a call will touch, for the permission decision and the approval message."""

    kind: str  # a key of permissions.access.ACCESS_KINDS; anything else is denied
    paths: tuple[ResolvedPath, ...] = ()
    command: str | None = None
    cwd: Path | None = None
    subject: str | None = None  # what an approval names when there is no path or command
    target: str | None = None  # what rules naming the tool match besides its name (server:uri)
    # The user trusts the tool's server and the server says the tool only reads (MCP
    # readOnlyHint on a `trusted` server): permission rules by tool name decide the rest.
    trusted_read_only: bool = False


@dataclass
class ToolOutput:
    content: str  # what the model sees
    summary: str  # one line for the editor (claw/event toolResult)
    ok: bool = True
    end_turn: bool = False  # the turn ends after this call (exit_plan_mode hands a plan over)


@dataclass
class ReadFile:
    text: str
    version: int | None
    from_editor: bool
    meta: FileText | None


class CallObserver(Protocol):
    """Watches the calls the orchestrator runs (the language tools use it for the diagnostics
    delta of each edit). `before` runs after the call is allowed and before it runs; `after`
    runs when it returned ok, and its text (if any) is appended to the result the model sees.
    Both are bounded by the observer itself; a failure in either never fails the call."""

    async def before(self, kind: str, paths: Sequence[ResolvedPath]) -> None: ...

    async def after(self, kind: str, paths: Sequence[ResolvedPath]) -> str: ...


@dataclass
class ToolContext:
    workspace: Workspace
    root: Root
    editor: Editor
    applier: ChangeApplier
    settings: Callable[[], Settings]
    events: EventSink
    read_hashes: dict[Path, str] = field(default_factory=dict)
    # The tier of the folder a path lands in (claw.setTier is per folder); by default every
    # folder has the turn's tier.
    tier_of: Callable[[Root], Tier] | None = None
    observer: CallObserver | None = None
    # Deferred tools whose schemas the model asked for, in the order it asked (the session's
    # list: the next requests carry these schemas; see catalog.Toolbox.definitions).
    loaded_tools: list[str] = field(default_factory=list)
    # -- issue 18: the agent's own state, for todo_write, exit_plan_mode and task (None: the
    # tool reports that it is not available here, e.g. todo_write inside a subagent).
    todos: TodoBoard | None = None
    plan: PlanDesk | None = None
    subagents: Delegator | None = None
    call_id: str | None = None  # the call being run (the orchestrator sets it; task needs it)

    def resolve(self, raw: str) -> ResolvedPath:
        try:
            return self.workspace.resolve(raw, base=self.root)
        except PathDenied as exc:
            raise ToolError(str(exc)) from None

    def folder_tier(self, root: Root) -> Tier:
        return self.tier_of(root) if self.tier_of is not None else self.settings().tier

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


@dataclass(frozen=True)
class Tool:
    """One tool. `validate` raises ToolError with a model-facing message on bad arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object
    kind: str
    validate: Callable[[dict[str, Any]], Any]
    # May be async: a tool that must ask a language server what it will touch (a rename's
    # files) plans before the permission decision, so the decision covers every path.
    plan: Callable[[Any, ToolContext], Access | Awaitable[Access]]
    run: Callable[[Any, ToolContext], Awaitable[ToolOutput]]
    source: str = "builtin"
    trusted_read_only: bool = False  # see Access.trusted_read_only (decides offering)
    # A deferred tool is callable but its schema is sent only after the model asked for it
    # (a search tool of its source loads it), to keep big tool sets out of small windows.
    deferred: bool = False
    # The OpenAI tool definition, built once: it is sent with every request and must stay
    # byte-identical. Callers must not mutate it.
    definition: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        function: dict[str, Any] = {"name": self.name}
        if self.description:  # a self-explaining name needs none: every character is resent
            function["description"] = self.description
        function["parameters"] = self.parameters
        definition = {"type": "function", "function": function}
        object.__setattr__(self, "definition", definition)


class ToolSource(Protocol):
    """Where tools come from. `tools(root)` is called once per turn, for the workspace folder
    the turn runs in: a source whose tools can change (an MCP server's list_changed, a new
    skill file) returns the new list from the next turn on, so the prompt prefix stays
    byte-stable within a turn. The order must be deterministic; return the same Tool objects
    while nothing changed."""

    name: str

    def tools(self, root: Root) -> Sequence[Tool]: ...


@runtime_checkable
class PreparedToolSource(ToolSource, Protocol):
    """A source with work to do before a turn's snapshot (start servers, apply list changes)
    and resources to release when the agent stops. `prepare` never raises for a source's own
    faults: it reports them (ctx.events) and lists fewer tools."""

    async def prepare(self, ctx: ToolContext, approver: Approver) -> None: ...

    async def aclose(self) -> None: ...


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


@dataclass(frozen=True)
class _PydanticValidator(Generic[ArgsT]):
    name: str
    model: type[ArgsT]

    def __call__(self, value: dict[str, Any]) -> ArgsT:
        try:
            return self.model.model_validate(value)
        except ValidationError as exc:
            raise ToolError(schema_message(self.name, exc)) from None


def define_tool(
    name: str,
    description: str,
    args: type[ArgsT],
    kind: str,
    plan: Callable[[ArgsT, ToolContext], Access],
    run: Callable[[ArgsT, ToolContext], Awaitable[ToolOutput]],
    schema: Mapping[str, Any] | None = None,
) -> Tool:
    """A tool whose arguments are a pydantic model (the built-ins). `schema` replaces the
    generated one where every character counts (the model still validates the arguments)."""
    return Tool(
        name=name,
        description=description,
        parameters=schema if schema is not None else compact_schema(args.model_json_schema()),
        kind=kind,
        validate=_PydanticValidator(name, args),
        plan=plan,
        run=run,
    )


def schema_message(name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:6]:
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"invalid arguments for {name}: " + "; ".join(problems)


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

    out: dict[str, Any] = strip(schema)
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
