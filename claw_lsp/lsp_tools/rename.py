"""rename_symbol: the language server's WorkspaceEdit, turned into one FileChange per file and
applied as ONE edit through the same applier as every edit (journal, claw.undoTurn,
proposals). Planned before the permission decision so the decision covers every file."""

from __future__ import annotations

from dataclasses import dataclass

from claw_lsp.edits.applier import ChangeRejected
from claw_lsp.edits.positions import PositionEncoding
from claw_lsp.edits.textdiff import apply_edits
from claw_lsp.foundation.ports import FileChange
from claw_lsp.lsp_tools.common import (
    POSITION_PROPERTIES,
    POSITION_REQUIRED,
    Call,
    PositionArgs,
    language_tool,
    locate,
    object_schema,
    require_answers,
)
from claw_lsp.lsp_tools.hub import LanguageHub
from claw_lsp.lsp_tools.render import EditNotSupported, workspace_edit_texts
from claw_lsp.permissions.paths import PathDenied, ResolvedPath
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, ToolOutput, digest

MAX_RENAME_FILES = 200


class RenameArgs(PositionArgs):
    newName: str


@dataclass
class _Planned:
    changes: list[tuple[FileChange, ResolvedPath]]
    edits: int
    server: str


def rename_tool(hub: LanguageHub) -> Tool:
    async def plan(call: Call[RenameArgs], ctx: ToolContext) -> Access:
        args = call.args
        new_name = args.newName.strip()
        if not new_name or new_name == args.symbol.strip():
            raise ToolError("newName must be a new, non-empty name")
        located = locate(hub, ctx, args)

        def params(encoding: PositionEncoding) -> dict[str, object]:
            return {
                "textDocument": located.text_document(),
                "position": located.position(encoding),
                "newName": new_name,
            }

        answers = await hub.ask("textDocument/rename", located.doc, params, sync_open=True)
        require_answers(answers, "rename_symbol", located.target.relative)
        answer = next(iter(answers.non_empty()), None)
        if answer is None:
            reasons = "; ".join(answers.errors) or "the language server returned no edit"
            raise ToolError(f"'{args.symbol}' cannot be renamed here: {reasons}")
        try:
            per_uri = workspace_edit_texts(answer.result)
        except EditNotSupported as exc:
            raise ToolError(str(exc)) from None
        if not per_uri:
            raise ToolError(f"the language server found nothing to rename for '{args.symbol}'")
        if len(per_uri) > MAX_RENAME_FILES:
            raise ToolError(f"the rename would change {len(per_uri)} files; the limit is 200")
        changes = []
        for uri, edits in per_uri.items():
            try:
                target = ctx.workspace.resolve_uri(uri)
            except PathDenied as exc:
                raise ToolError(
                    f"the rename would also change a file outside the workspace ({exc}); "
                    "nothing was changed"
                ) from None
            current = ctx.read_text(target)
            try:
                after = apply_edits(current.text, edits, answer.encoding)
            except ValueError as exc:
                raise ToolError(f"the rename's edits do not fit {target.relative}: {exc}") from None
            change = FileChange(
                path=target.path,
                uri=target.uri,
                before=current.text,
                after=after,
                version=current.version,
                label=f"claw: rename_symbol {args.symbol} -> {new_name}",
                bom=bool(current.meta and current.meta.bom),
            )
            changes.append((change, target))
        call.found = _Planned(changes, sum(len(e) for e in per_uri.values()), answer.server)
        return Access("write", paths=tuple(target for _, target in changes))

    async def run(call: Call[RenameArgs], ctx: ToolContext) -> ToolOutput:
        planned: _Planned = call.found
        for change, target in planned.changes:
            if ctx.read_text(target).text != change.before:
                raise ToolError(
                    f"{target.relative} changed while the rename was prepared; nothing was "
                    "changed. Try again."
                )
        label = planned.changes[0][0].label
        try:
            message = await ctx.applier.submit_many(
                [(change, target.relative) for change, target in planned.changes], label
            )
        except ChangeRejected as exc:
            raise ToolError(str(exc)) from None
        for change, target in planned.changes:
            if target.path in ctx.read_hashes:  # the model had read it: it knows the new text
                ctx.read_hashes[target.path] = digest(change.after)
        files = ", ".join(target.relative for _, target in planned.changes)
        verb = "Prepared renaming" if ctx.applier.mode == "propose" else "Renamed"
        head = (
            f"{verb} '{call.args.symbol}' to '{call.args.newName.strip()}': {planned.edits} "
            f"edit(s) in {len(planned.changes)} file(s) ({files}), from {planned.server}."
        )
        return ToolOutput(f"{head}\n{message}", head[:200])

    return language_tool(
        "rename_symbol",
        "Renames in every file",
        RenameArgs,
        object_schema({**POSITION_PROPERTIES, "newName": {}}, [*POSITION_REQUIRED, "newName"]),
        "write",
        plan,
        run,
    )
