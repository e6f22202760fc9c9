"""Code actions, answered from server state with no model call (instant, also mid-turn), and
proposal hints as diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.permissions.paths import PathDenied
from claw_lsp.server import names as p
from claw_lsp.server.comment_prompts import prompts_in
from claw_lsp.server.state import ClawServer

ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
SELECTION_ACTIONS = (
    ("Claw: Explain selection", "Explain what the selected code does."),
    ("Claw: Refactor selection", "Refactor the selected code to be clearer, keeping behaviour."),
    ("Claw: Write tests for selection", "Write tests for the selected code."),
)
# Offered anywhere in a file to plain clients, which have no prompt box of their own. Both run
# in the folder's current session (claw.ask without `session`).
ANYWHERE_ACTIONS = (
    (
        "Claw: Ask about this file",
        "Explain this file: what it is for, its main parts, and anything that looks wrong.",
    ),
    ("Claw: Continue the session", "Continue where you left off."),
)
CONTEXT_LINES = 20  # the code around a `claw:` comment that goes with its prompt
_published: set[str] = set()  # uris with claw diagnostics, cleared when they have none


def register(server: ClawServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=ACTION_KINDS)
    )
    def code_action(ls: ClawServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return actions_for(ls, params)

    server.on_proposals_changed = lambda: publish_proposal_hints(server)

    @server.command(p.ANSWER_APPROVAL)
    def answer_approval(ls: ClawServer, params: types.ExecuteCommandParams) -> dict[str, Any]:
        """A quick fix of an approval diagnostic (approval_diagnostics.py) was chosen."""
        from pygls.exceptions import JsonRpcInvalidParams

        from claw_lsp.server.params import AnswerApprovalParams, parse_params

        arguments = list(params.arguments) if params.arguments is not None else None
        try:
            args = parse_params(AnswerApprovalParams, arguments)
        except p.InvalidParams as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        return {"answered": ls.approver.diagnostics.answer(args.approval, args.answer)}


def actions_for(ls: ClawServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    rng = params.range
    given = list(params.context.diagnostics or [])
    out: list[types.CodeAction] = ls.approver.diagnostics.actions_for(uri, rng, given)
    for diag in _with_known(ls, uri, rng, given):
        if diag.source == "claw":
            continue
        message = diag.message.splitlines()[0][:120] if diag.message else "problem"
        line = diag.range.start.line + 1
        source = f" ({diag.source})" if diag.source else ""
        prompt = (
            f"Fix this diagnostic at line {line}, column {diag.range.start.character + 1}"
            f"{source}: {diag.message}"
        )
        out.append(
            _ask_action(
                f"Claw: Fix: {message}",
                types.CodeActionKind.QuickFix,
                prompt,
                uri,
                diag.range,
                [ls.protocol._converter.unstructure(diag)],
                diagnostics=[diag],
            )
        )
    if (rng.start.line, rng.start.character) != (rng.end.line, rng.end.character):
        for title, prompt in SELECTION_ACTIONS:
            out.append(_ask_action(title, types.CodeActionKind.RefactorRewrite, prompt, uri, rng))
    out.extend(_comment_actions(ls, uri, rng))
    out.extend(_proposal_actions(ls, uri, rng))
    out.extend(_plan_actions(ls, uri))
    if ls.plain_client:
        for title, prompt in ANYWHERE_ACTIONS:
            out.append(_ask_action(title, types.CodeActionKind.Empty, prompt, uri, rng))
    if ls.plain_client:  # their executeCommand blocks the editor: answer at once, run on
        for action in out:
            command = action.command
            argument = command.arguments[0] if command and command.arguments else None
            if command and command.command in (p.ASK, p.ACCEPT_PLAN) and isinstance(argument, dict):
                argument["background"] = True
    return out


def _comment_actions(ls: ClawServer, uri: str, rng: types.Range) -> list[types.CodeAction]:
    """`# claw: <prompt>` on the requested lines: run it with the code around it selected;
    the comment line goes with the turn's first edit of this file."""
    view = ls.editor.view_of(uri)
    if view is None:
        return []
    lines = view.source.splitlines()
    out = []
    for found in prompts_in(lines, rng.start.line, rng.end.line):
        first = max(found.line - CONTEXT_LINES, 0)
        last = min(found.line + CONTEXT_LINES, len(lines))
        around = types.Range(types.Position(first, 0), types.Position(last, 0))
        prompt = (
            f"{found.text}\n\n(Asked in a `claw:` comment on line {found.line + 1} of the "
            "active file; the code around it is selected. The comment line is removed with "
            "your first edit of that file.)"
        )
        remove = {"removeLine": {"line": found.line, "text": found.raw}}
        # The text comes from the file (perhaps a hostile one): shown escaped, run only when
        # the user picks it, like a selection they ask about.
        title = f"Claw: {escape_for_display(found.text, limit=80)}"
        action = _ask_action(
            title, types.CodeActionKind.QuickFix, prompt, uri, around, extra=remove
        )
        action.is_preferred = True
        out.append(action)
    return out


def _with_known(
    ls: ClawServer, uri: str, rng: types.Range, given: list[types.Diagnostic]
) -> list[types.Diagnostic]:
    """Plus what claw-run language servers report on these lines (issue 16): plain clients only
    send claw's own diagnostics, and claw publishes none of theirs."""
    seen = {(d.range.start.line, d.message) for d in given}
    for diag in ls.known_diagnostics(uri):
        touches = diag.range.start.line <= rng.end.line and diag.range.end.line >= rng.start.line
        if touches and (diag.range.start.line, diag.message) not in seen:
            seen.add((diag.range.start.line, diag.message))
            given.append(diag)
    return given


def _plan_actions(ls: ClawServer, uri: str) -> list[types.CodeAction]:
    """Accept a plan a plan-mode turn handed over (issue 18), wherever the user is."""
    if ls.service is None:
        return []
    from claw_lsp.agent.plan_mode import pending_plan

    pending = pending_plan(ls.service, uri)
    if pending is None:
        return []
    folder, session, first = pending
    title = "Claw: Accept the plan" + (f": {escape_for_display(first)}" if first else "")
    argument = {"folder": folder, "session": session}
    command = types.Command(title=title, command=p.ACCEPT_PLAN, arguments=[argument])
    return [types.CodeAction(title=title, kind=types.CodeActionKind.Empty, command=command)]


def _ask_action(
    title: str,
    kind: str,
    prompt: str,
    uri: str,
    rng: types.Range,
    diagnostics_json: list[object] | None = None,
    diagnostics: list[types.Diagnostic] | None = None,
    extra: Mapping[str, object] | None = None,
) -> types.CodeAction:
    argument: dict[str, object] = {
        "prompt": prompt,
        "uri": uri,
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
    }
    if diagnostics_json:
        argument["diagnostics"] = diagnostics_json
    argument.update(extra or {})
    return types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=diagnostics,
        command=types.Command(title=title, command=p.ASK, arguments=[argument]),
    )


def _proposal_actions(ls: ClawServer, uri: str, rng: types.Range) -> list[types.CodeAction]:
    if ls.service is None:
        return []
    try:
        path = ls.claw_workspace.resolve_uri(uri).path
    except PathDenied:
        return []
    out = []
    for proposal in ls.service.proposals.pending_for_path(path):
        if rng.start.line > proposal.end_line + 1 or rng.end.line < proposal.start_line - 1:
            continue
        for verb, command in (("Accept", p.ACCEPT_PROPOSAL), ("Reject", p.REJECT_PROPOSAL)):
            title = f"Claw: {verb} proposal"
            out.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    is_preferred=verb == "Accept",
                    command=types.Command(
                        title=title, command=command, arguments=[{"proposal": proposal.id}]
                    ),
                )
            )
    return out


def publish_proposal_hints(ls: ClawServer) -> None:
    """Pending proposals show as hint diagnostics on their range (source "claw"), and pending
    approvals of dialog-less clients as Information diagnostics (approval_diagnostics.py)."""
    if ls.service is None:
        return
    by_uri: dict[str, list[types.Diagnostic]] = {uri: [] for uri in _published}
    _published.clear()
    for uri in ls.approver.diagnostics.uris():
        by_uri.setdefault(uri, []).extend(ls.approver.diagnostics.diagnostics_for(uri))
    for proposal in ls.service.proposals.proposals.values():
        by_uri.setdefault(proposal.uri, [])
        if proposal.state != "pending":
            continue
        by_uri[proposal.uri].append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(proposal.start_line, 0),
                    end=types.Position(proposal.end_line, 0),
                ),
                message=f"claw proposal {proposal.id}: review with the code actions",
                severity=types.DiagnosticSeverity.Hint,
                source="claw",
                code=proposal.id,
            )
        )
    for uri, diagnostics in by_uri.items():
        if diagnostics:
            _published.add(uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
        )
