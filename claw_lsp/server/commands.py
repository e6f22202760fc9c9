"""workspace/executeCommand handlers. They parse params, call the agent service, translate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.secrets import redact
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import PathDenied
from claw_lsp.server import names as p
from claw_lsp.server.state import ClawServer

if TYPE_CHECKING:
    from claw_lsp.agent.service import AgentService
    from claw_lsp.agent.turn import Prompt
    from claw_lsp.server.params import AskParams

# The agent stack (operations, slash commands, context) is imported inside the handlers: it is
# not needed to answer `initialize`, and importing it there would slow every editor start.
log = logging.getLogger(__name__)
Handler = Callable[[ClawServer, types.ExecuteCommandParams], Awaitable[Any]]


def _svc(ls: ClawServer) -> AgentService:
    if ls.service is None:
        raise JsonRpcInternalError("claw-lsp is not initialized")
    return ls.service


def _parse(model: str, params: types.ExecuteCommandParams) -> Any:
    """Validate a command's argument with its pydantic model (imported on first use)."""
    from claw_lsp.server import params as protocol_params

    arguments = list(params.arguments) if params.arguments is not None else None
    return protocol_params.parse_params(getattr(protocol_params, model), arguments)


def register(server: ClawServer) -> None:
    for name, handler in _HANDLERS.items():
        server.command(name)(_guarded(handler))


def _guarded(handler: Handler) -> Handler:
    """-32602 for bad params; service errors as clear -32603-free messages; never a traceback."""

    async def run(ls: ClawServer, params: types.ExecuteCommandParams) -> Any:
        if ls.service is None:
            raise JsonRpcInternalError("claw-lsp is not initialized")
        try:
            return await handler(ls, params)
        except p.InvalidParams as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        except (ServiceError, PathDenied) as exc:
            raise JsonRpcInvalidParams(redact(str(exc))) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("command %s failed", params.command)
            raise JsonRpcInternalError(f"{params.command} failed: {type(exc).__name__}") from None

    run.__name__ = handler.__name__
    return run


async def ask(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    msg_id = ls.protocol.msg_id  # before any await: later messages change it
    args = _parse("AskParams", params)
    _svc(ls)
    from claw_lsp.agent.slash import parse_slash
    from claw_lsp.agent.turn import Prompt

    # Slash commands still answer (/status shows the problem); model turns would not.
    if ls.config_error and parse_slash(args.prompt) is None:
        raise ServiceError(f"configuration error: {ls.config_error}")
    prompt = Prompt(
        text=args.prompt,
        folder=args.folder,
        uri=args.uri,
        session=args.session,
        edit_mode=args.edit_mode,
        editor_context=_editor_context(ls, args),
        selection=_selection_text(ls, args),
        diagnostics=tuple(args.diagnostics or ()),
        mode=args.mode,
        remove_lines=_remove_lines(args),
    )
    if args.uri:  # where approvals-as-diagnostics appear (approval_diagnostics.py)
        ls.last_ask_at = (args.uri, args.range.start.line if args.range else 0)
    return await _submit(ls, params, prompt, msg_id, background=args.background)


async def _submit(
    ls: ClawServer,
    params: types.ExecuteCommandParams,
    prompt: Prompt,
    msg_id: Any,
    *,
    background: bool = False,
) -> dict[str, Any]:
    """Runs a prompt with this request's progress and cancellation, or in the background
    (issue 14: progress, cancellation and background turns live in turn_runner.py)."""
    from claw_lsp.server import turn_runner

    token = await turn_runner.progress_token(ls, params.work_done_token)
    if background:
        return await turn_runner.start_background(ls, prompt, token)
    task = asyncio.current_task()
    assert task is not None
    ls.protocol.register_cancellable(msg_id, task)
    return await turn_runner.run_turn(ls, prompt, token)


def _remove_lines(args: AskParams) -> tuple[tuple[str, int, str], ...]:
    """A `claw:` comment's line, removed with the turn's first edit of its file."""
    if args.remove_line is None or not args.uri:
        return ()
    return ((args.uri, args.remove_line.line, args.remove_line.text),)


def _selection_text(ls: ClawServer, args: AskParams) -> str | None:
    """The selected text (for @selection), measured in the negotiated position encoding."""
    if not args.uri or args.range is None:
        return None
    doc = ls.workspace.text_documents.get(args.uri)
    if doc is None:
        return None
    r = args.range
    start = doc.offset_at_position(types.Position(r.start.line, r.start.character))
    end = doc.offset_at_position(types.Position(r.end.line, r.end.character))
    return doc.source[start:end] if end > start else None


def _editor_context(ls: ClawServer, args: AskParams) -> str:
    from claw_lsp.context.editor_context import EditorContext, render_editor_context

    ctx = EditorContext(folders=[r.name for r in ls.claw_workspace.roots])
    if args.uri:
        try:
            target = ls.claw_workspace.resolve_uri(args.uri)
            ctx.active_path = target.relative
        except PathDenied:
            ctx.active_path = None
        view = ls.editor.view_of(args.uri)  # with applied edits the client has not reported
        if view is not None:
            ctx.active_text = view.source
            ctx.language_id = view.language_id
            ctx.unsaved = args.uri in ls.editor.dirty
        if args.range is not None:
            r = args.range
            ctx.selection = (r.start.line, r.start.character, r.end.line, r.end.character)
    ctx.diagnostics = list(args.diagnostics or [])
    if args.uri:  # issue 16: the language servers' diagnostics of the active document
        from claw_lsp.server.language import with_known_diagnostics

        ctx.diagnostics = with_known_diagnostics(ls, args.uri, ctx.diagnostics)
    for document in ls.editor.open_documents():
        try:
            ctx.open_documents.append(ls.claw_workspace.resolve_uri(document.uri).relative)
        except PathDenied:
            continue
    return render_editor_context(ctx)


async def cancel(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("OptionalSessionParams", params)
    return {"cancelled": _svc(ls).cancel(args.session, args.folder)}


async def sessions(ls: ClawServer, params: types.ExecuteCommandParams) -> list[dict[str, Any]]:
    args = _parse("FolderParams", params)
    from claw_lsp.agent import operations

    return operations.list_sessions(_svc(ls), args.folder)


async def history(ls: ClawServer, params: types.ExecuteCommandParams) -> list[dict[str, Any]]:
    args = _parse("SessionParams", params)
    from claw_lsp.agent import operations

    return operations.history(_svc(ls), args.session)


async def undo_turn(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("UndoParams", params)
    from claw_lsp.agent import operations

    return await operations.undo_turn(
        _svc(ls),
        args.session,
        args.turn,
        args.folder,
    )


async def set_tier(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("SetTierParams", params)
    tier = Tier.parse(args.tier)
    state = _svc(ls).set_tier(args.folder, tier)
    if tier == Tier.UNSAFE:
        ls.warn(
            "unsafe tier: every tool runs without asking, outside the sandbox, until the "
            "server restarts"
        )
    return {"tier": tier.value, "folder": state.root.uri}


async def accept_proposal(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("ProposalParams", params)
    from claw_lsp.agent import operations

    result = await operations.accept_proposal(_svc(ls), args.proposal)
    _refresh_proposal_hints(ls)
    return result


async def reject_proposal(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("ProposalParams", params)
    from claw_lsp.agent import operations

    result = operations.reject_proposal(_svc(ls), args.proposal)
    _refresh_proposal_hints(ls)
    return result


async def proposals(ls: ClawServer, params: types.ExecuteCommandParams) -> list[dict[str, Any]]:
    args = _parse("ProposalsParams", params)
    pending = _svc(ls).proposals.pending()
    return [x.to_wire() for x in pending if args.uri is None or x.uri == args.uri]


def _refresh_proposal_hints(ls: ClawServer) -> None:
    ls.on_proposals_changed()


async def new_session(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("FolderParams", params)
    from claw_lsp.agent import operations

    return operations.new_session(_svc(ls), args.folder)


async def resume_session(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("SessionParams", params)
    from claw_lsp.agent import operations

    return operations.resume_session(_svc(ls), args.session)


async def fork_session(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("ForkParams", params)
    from claw_lsp.agent import operations

    return operations.fork_session(_svc(ls), args.session, args.turn)


async def export_session(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("SessionParams", params)
    from claw_lsp.agent import operations

    return operations.export_session(_svc(ls), args.session)


async def delete_session(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("SessionParams", params)
    from claw_lsp.agent import operations

    return operations.delete_session(_svc(ls), args.session)


async def status(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("FolderParams", params)
    result = _svc(ls).status(args.folder)
    result.update(_context_fields(ls, args.folder))
    if ls.config_error:
        result["configError"] = ls.config_error
    if ls.settings.warnings:
        result["configWarnings"] = list(ls.settings.warnings)
    return result


async def commands(ls: ClawServer, params: types.ExecuteCommandParams) -> list[dict[str, Any]]:
    """Every slash command of the folder (built-in, user, workspace), for client pickers."""
    args = _parse("FolderParams", params)
    from claw_lsp.agent.slash import all_command_entries

    service = _svc(ls)
    return await all_command_entries(service, service.folder(args.folder))


async def complete_mentions(
    ls: ClawServer, params: types.ExecuteCommandParams
) -> list[dict[str, Any]]:
    args = _parse("MentionParams", params)
    from claw_lsp.agent.mention_completion import complete_mentions as complete

    service = _svc(ls)
    return await complete(service, service.folder(args.folder), args.prefix, args.limit)


# --- issue 20 (chat panes): claw.models and the context meter fields of claw.status ---
async def models(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    """The backend's models and the current one, for the editors' model pickers."""
    from claw_lsp.agent.pane_info import list_models

    args = _parse("FolderParams", params)
    service = _svc(ls)
    return await list_models(service, service.folder(args.folder))


def _context_fields(ls: ClawServer, folder: str | None) -> dict[str, Any]:
    from claw_lsp.agent.pane_info import context_fields

    try:
        return context_fields(_svc(ls), folder)
    except Exception:
        return {}  # the meter is optional; claw.status must still answer


# --- end issue 20 ---


async def doctor(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    from claw_lsp.agent.doctor import run_doctor

    _parse("FolderParams", params)
    return await run_doctor(ls.settings, ls.models, _svc(ls).mcp)


async def mcp_servers(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    """The MCP servers, their state and prompts; `start: true` starts them first (the editors'
    prompt pickers)."""
    from claw_lsp.mcp.status import status_payload

    args = _parse("McpServersParams", params)
    service = _svc(ls)
    if args.start:
        await service.mcp.ensure(force=True)
    return status_payload(service.mcp)


async def todos(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    args = _parse("OptionalSessionParams", params)
    from claw_lsp.agent.plan_mode import todos_of

    return todos_of(_svc(ls), args.folder, args.session)


async def accept_plan(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
    msg_id = ls.protocol.msg_id  # before any await: later messages change it
    args = _parse("AcceptPlanParams", params)
    from claw_lsp.agent.plan_mode import accept_plan_prompt

    if ls.config_error:
        raise ServiceError(f"configuration error: {ls.config_error}")
    prompt = accept_plan_prompt(_svc(ls), args.folder, args.session, args.plan)
    return await _submit(ls, params, prompt, msg_id, background=args.background)


_HANDLERS: dict[str, Handler] = {
    p.ASK: ask,
    p.CANCEL: cancel,
    p.SESSIONS: sessions,
    p.HISTORY: history,
    p.UNDO_TURN: undo_turn,
    p.SET_TIER: set_tier,
    p.ACCEPT_PROPOSAL: accept_proposal,
    p.REJECT_PROPOSAL: reject_proposal,
    p.NEW_SESSION: new_session,
    p.RESUME_SESSION: resume_session,
    p.FORK_SESSION: fork_session,
    p.EXPORT_SESSION: export_session,
    p.DELETE_SESSION: delete_session,
    p.STATUS: status,
    p.DOCTOR: doctor,
    p.PROPOSALS: proposals,
    p.COMMANDS: commands,
    p.COMPLETE_MENTIONS: complete_mentions,
    p.MCP_SERVERS: mcp_servers,
    p.TODOS: todos,
    p.ACCEPT_PLAN: accept_plan,
    p.MODELS: models,
}
