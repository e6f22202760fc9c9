"""What the language tools share: arguments, the symbol position, and the tool shape.

The schemas are written by hand and kept minimal: they are sent with every request (issue 16
budget: the six schemas add at most 1,200 characters). String properties carry no type (the
names say it; validation coerces), `occurrence` is not advertised: the result says when a
symbol occurs more than once on the line and how to pick another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claw_lsp.edits.positions import LineIndex, PositionEncoding
from claw_lsp.lsp_tools.hub import Answers, Document, LanguageHub, LanguageUnavailable
from claw_lsp.lsp_tools.symbols import SymbolNotFound, SymbolSpot, locate_symbol
from claw_lsp.permissions.paths import ResolvedPath
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, ToolOutput, schema_message

SOURCE = "lsp"


class LanguageArgs(BaseModel):
    # Lax on purpose: models send "12" for a line and 42 for a symbol named 42.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class PositionArgs(LanguageArgs):
    path: str
    line: int = Field(ge=1)
    symbol: str
    occurrence: int | None = Field(default=None, ge=1)


POSITION_PROPERTIES: dict[str, Any] = {"path": {}, "line": {"type": "integer"}, "symbol": {}}
POSITION_REQUIRED = ["path", "line", "symbol"]


def object_schema(properties: Mapping[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = required
    return schema


ArgsT = TypeVar("ArgsT", bound=LanguageArgs)


@dataclass
class Call(Generic[ArgsT]):
    """The runner's input: the arguments, and what planning found (asked before the
    permission decision, so that the decision covers every file the answer names)."""

    args: ArgsT
    found: Any = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Validator(Generic[ArgsT]):
    name: str
    model: type[ArgsT]

    def __call__(self, value: dict[str, Any]) -> Call[ArgsT]:
        try:
            return Call(self.model.model_validate(value))
        except ValidationError as exc:
            raise ToolError(schema_message(self.name, exc)) from None


def language_tool(
    name: str,
    description: str,
    args: type[ArgsT],
    parameters: dict[str, Any],
    kind: str,
    plan: Callable[[Call[ArgsT], ToolContext], Awaitable[Access] | Access],
    run: Callable[[Call[ArgsT], ToolContext], Awaitable[ToolOutput]],
) -> Tool:
    return Tool(
        name=name,
        description=description,
        parameters=parameters,
        kind=kind,
        validate=Validator(name, args),
        plan=plan,
        run=run,
        source=SOURCE,
    )


@dataclass(frozen=True)
class Located:
    target: ResolvedPath
    doc: Document
    spot: SymbolSpot
    index: LineIndex

    def position(self, encoding: PositionEncoding) -> dict[str, int]:
        position = self.index.offset_to_position(self.spot.offset, encoding)
        return {"line": position.line, "character": position.character}

    def text_document(self) -> dict[str, str]:
        return {"uri": self.doc.uri}


def locate(hub: LanguageHub, ctx: ToolContext, args: PositionArgs) -> Located:
    target = ctx.resolve(args.path)
    if target.path.is_dir():
        raise ToolError(f"{target.relative} is a directory")
    try:
        doc = hub.read(target)
        spot = locate_symbol(doc.text, args.line, args.symbol, args.occurrence, target.relative)
    except (LanguageUnavailable, SymbolNotFound) as exc:
        raise ToolError(str(exc)) from None
    return Located(target, doc, spot, LineIndex(doc.text))


def require_answers(answers: Answers, what: str, target: str) -> None:
    """A clear error when no server could answer at all (failing, not just empty)."""
    if not answers.covered:
        raise ToolError(
            f"no language server covers {target}: the editor has none for it and "
            "languageServers configures none"
        )
    if not answers.answers:
        reasons = "; ".join(answers.errors) or "no answer"
        raise ToolError(f"{what} failed: {reasons}")


def servers_note(answers: Answers) -> str:
    names = sorted({a.server for a in answers.answers})
    failed = f"; failed: {'; '.join(answers.errors)}" if answers.errors else ""
    return f"(from {', '.join(names) or 'no server'}{failed})"
