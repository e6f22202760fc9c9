"""Parameter models of the custom commands, validated with pydantic."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from claw_lsp.server.names import InvalidParams

MAX_PROMPT_CHARS = 1_000_000


class _Params(BaseModel):
    # Unknown fields are ignored so that newer clients keep working with older servers.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class LspPosition(_Params):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class LspRange(_Params):
    start: LspPosition
    end: LspPosition


class RemoveLine(_Params):
    line: int = Field(ge=0)
    text: str = Field(max_length=10_000)


class AskParams(_Params):
    prompt: str = Field(min_length=1)
    folder: str | None = None
    uri: str | None = None
    range: LspRange | None = None
    session: str | None = None
    edit_mode: Literal["apply", "propose"] | None = Field(default=None, alias="editMode")
    diagnostics: list[dict[str, Any]] | None = None
    mode: Literal["ask", "plan"] = "ask"  # issue 18: plan mode
    # issue 14: answer at once and run on (plain clients); a `claw:` comment line to remove.
    background: bool = False
    remove_line: RemoveLine | None = Field(default=None, alias="removeLine")

    @field_validator("prompt")
    @classmethod
    def _prompt_size(cls, value: str) -> str:
        if len(value) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt is {len(value)} characters; the limit is {MAX_PROMPT_CHARS}")
        if not value.strip():
            raise ValueError("prompt is empty")
        return value


class AnswerApprovalParams(_Params):
    approval: str = Field(min_length=1, max_length=200)
    answer: Literal["once", "session", "deny"]


class SessionParams(_Params):
    session: str = Field(min_length=1, max_length=200)


class OptionalSessionParams(_Params):
    session: str | None = None
    folder: str | None = None


class FolderParams(_Params):
    folder: str | None = None


class UndoParams(_Params):
    session: str | None = None
    turn: int | None = Field(default=None, ge=1)
    folder: str | None = None


class SetTierParams(_Params):
    tier: Literal["read-only", "write", "shell", "unsafe"]
    folder: str | None = None


class ProposalParams(_Params):
    proposal: str = Field(min_length=1, max_length=200)


class ForkParams(_Params):
    session: str = Field(min_length=1, max_length=200)
    turn: int | None = Field(default=None, ge=0)


class ProposalsParams(_Params):
    uri: str | None = None


class MentionParams(_Params):
    prefix: str = Field(default="", max_length=500)
    folder: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


class AcceptPlanParams(_Params):
    folder: str | None = None
    session: str | None = None
    plan: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)  # the edited text
    background: bool = False  # issue 14: answer at once and run on (plain clients)


class McpServersParams(_Params):
    start: bool = False  # start the servers first (a prompt picker wants their prompts)


_P = TypeVar("_P", bound="_Params")


def parse_params(model: type[_P], arguments: list[Any] | None) -> _P:
    """Commands take exactly one argument, a JSON object."""
    if not arguments:
        arguments = [{}]
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise InvalidParams("expected exactly one argument, a JSON object")
    try:
        return model.model_validate(arguments[0])
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error["loc"]) or "arguments"
            problems.append(f"{where}: {error['msg']}")
        raise InvalidParams("invalid params: " + "; ".join(problems)) from None
