"""Turn assembly: the per-turn stack (applier, tool context, orchestrator, tools, model,
context step) built once, the loop run over it, and its outcome recorded and shaped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from claw_lsp.agent.history import final_answers, repair_history
from claw_lsp.agent.loop import TurnInputs, TurnOutcome, run_turn
from claw_lsp.agent.results import finish_turn
from claw_lsp.agent.state import FolderState, SessionIndex, SessionState
from claw_lsp.agent.subagents import SubagentSlots
from claw_lsp.agent.turn_extras import TurnExtras, mode_settings
from claw_lsp.config import Settings
from claw_lsp.context.engine import ContextStep, TurnContext
from claw_lsp.context.mentions import (
    MentionSources,
    ResourceReader,
    attachment_budget,
    expand_mentions,
)
from claw_lsp.context.tokens import resolve_window
from claw_lsp.context.turn_context import active_dir_for, build_user_message
from claw_lsp.edits.applier import ChangeApplier
from claw_lsp.edits.proposals import ProposalStore
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import Approver, Editor
from claw_lsp.foundation.tiers import Tier
from claw_lsp.llm.base import BackendError
from claw_lsp.llm.provider import ModelProvider
from claw_lsp.permissions.paths import Root, Workspace
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.tools.base import CallObserver, ToolContext
from claw_lsp.tools.catalog import ToolCatalog
from claw_lsp.tools.orchestrator import Orchestrator

EventsFactory = Callable[[str, int], EventSink]
EditMode = Literal["apply", "propose"]


@dataclass(frozen=True)
class Prompt:
    """One request from a front door: the user's words and where they were asked."""

    text: str
    folder: str | None = None  # workspace folder URI
    uri: str | None = None  # the active document
    session: str | None = None  # a session id, "new", or None for the folder's current one
    edit_mode: EditMode | None = None
    editor_context: str = ""  # rendered by the front door, which knows the editor's state
    selection: str | None = None  # the selected text, for @selection
    diagnostics: tuple[Mapping[str, Any], ...] = ()  # the active file's, for @diagnostics
    # Set by a custom command (agent/custom_commands.py): it can only narrow the tools, and
    # only a user-level command file can choose the model.
    model: str | None = None
    allowed_tools: frozenset[str] | None = None
    notices: tuple[str, ...] = ()
    # Issue 18: "plan" runs read-only tools plus exit_plan_mode (agent/turn_extras.py); `plan`
    # is an accepted plan, which this turn carries out and seeds the todo list with.
    mode: Literal["ask", "plan"] = "ask"
    plan: str | None = None
    # (uri, line, text): a `claw:` comment line the turn's first edit of that file removes.
    remove_lines: tuple[tuple[str, int, str], ...] = ()


@dataclass
class TurnDeps:
    """What every turn is assembled from; owned by the AgentService."""

    workspace: Workspace
    editor: Editor
    approver: Approver
    events: EventsFactory
    index: SessionIndex
    models: ModelProvider
    catalog: ToolCatalog
    proposals: ProposalStore
    settings_for: Callable[[FolderState], Settings]
    system_prompt: str
    tier_of: Callable[[Root], Tier] = field(default=lambda root: Tier.READ_ONLY)
    # `@<server>:<uri>` readers by server name (MCP registers its servers' resources here).
    resource_readers: Callable[[], Mapping[str, ResourceReader]] = field(default=lambda: {})
    observer: Callable[[], CallObserver | None] = field(default=lambda: None)  # one per turn
    subagent_slots: SubagentSlots = field(default_factory=SubagentSlots)  # the core's (issue 18)


async def run_model_turn(
    deps: TurnDeps, state: FolderState, session: SessionState, turn: int, prompt: Prompt
) -> dict[str, Any]:
    def turn_settings() -> Settings:
        settings = deps.settings_for(state)
        settings = replace(settings, model=prompt.model) if prompt.model else settings
        return mode_settings(settings, prompt.mode)

    settings = turn_settings()
    store = deps.index.store
    events = deps.events(session.id, turn)
    for notice in prompt.notices:
        events.emit("notice", {"message": notice})
    journal = session.journal.for_turn(turn)
    applier = ChangeApplier(
        deps.editor,
        journal,
        deps.proposals,
        session.id,
        prompt.edit_mode or settings.edit_mode,
        events,
        on_applied=lambda change: session.edited_paths.add(change.path),
        remove_lines={uri: (line, text) for uri, line, text in prompt.remove_lines},
    )
    ctx = ToolContext(
        workspace=deps.workspace,
        root=state.root,
        editor=deps.editor,
        applier=applier,
        settings=turn_settings,
        events=events,
        read_hashes=session.read_hashes,
        tier_of=deps.tier_of,
        observer=deps.observer(),
        loaded_tools=session.loaded_tools,
    )
    extras = TurnExtras(store, state, session, turn, events, prompt.mode)  # issue 18
    extras.attach(ctx)
    extras.seed_from_plan(prompt.plan)
    if session.turns == 1:
        store.set_title(state.root.uri, session.id, prompt.text)

    def record(message: dict[str, Any]) -> None:
        # Written at once, fsynced once per step by sync_step (issue 22); the turn record at
        # the end is durable and covers whatever came after the last step.
        store.append(
            state.root.uri,
            session.id,
            [{"type": "message", "turn": turn, "message": message}],
            durable=False,
        )

    async def sync_step() -> None:
        await store.sync(state.root.uri, session.id)

    error: str | None = None
    try:
        # Tool sources get ready (MCP servers start, list changes apply) before the one
        # snapshot of this turn: the tool list never changes within a turn.
        await deps.catalog.prepare(ctx, deps.approver)
        toolbox = extras.toolbox(
            deps.catalog.snapshot(state.root).only(prompt.allowed_tools), settings
        )
        orchestrator = Orchestrator(toolbox, ctx, deps.approver, session.grants)
        extras.attach_subagents(
            ctx,
            toolbox,
            store=store,
            models=deps.models,
            approver=deps.approver,
            system_prompt=deps.system_prompt,
            slots=deps.subagent_slots,
        )
        window = resolve_window(settings.context_window, session.context).tokens
        attached = await expand_mentions(prompt.text, _mention_sources(deps, state, prompt, window))
        for notice in attached.notices:
            events.emit("notice", {"message": notice})
        for attachment in attached.attachments:
            events.emit(
                "attachment",
                {"type": attachment.kind, "name": attachment.name, "chars": len(attachment.body)},
            )
        user_message = build_user_message(
            extras.prompt_text(prompt.text),
            attachments=attached.render(),
            editor_context=prompt.editor_context,
            root=state.root,
            proposal_report=deps.proposals.take_report(session.id),
            # Instruction files: those not yet in this session's history (issue 4).
            history=session.messages,
            active_dir=active_dir_for(deps.workspace, prompt.uri),
            worked_paths=session.worked_paths(),
        )
        session.messages.append(user_message)
        record(user_message)
        rules = PermissionRules.from_config(settings.permissions)

        def tool_definitions() -> list[dict[str, Any]]:
            # Deferred tools the model loaded join from the next request on (mcp_tools).
            return toolbox.definitions(
                settings.tier, settings.approvals, rules, session.loaded_tools
            )

        model = await deps.models.get(settings)
        context = ContextStep(
            TurnContext(
                settings=settings,
                stats=session.context,
                messages=session.messages,
                root=state.root,
                turn=turn,
                record_message=record,
                record_compaction=lambda r: store.append(state.root.uri, session.id, [r]),
                worked_paths=session.worked_paths,
                system_prompt=deps.system_prompt,
                tools=tool_definitions(),
                refresh_tools=tool_definitions,
                reminder=extras.reminder(),
            ),
            model,
        )
        outcome = await run_turn(
            TurnInputs(
                model=model,
                context=context,
                messages=session.messages,
                orchestrator=orchestrator,
                events=events,
                record=record,
                sync=sync_step,
                max_steps=settings.max_turns,
                deadline_s=settings.turn_deadline,
            )
        )
        error = extras.finish(outcome)
    except asyncio.CancelledError:
        outcome = TurnOutcome("cancelled")
        repaired = repair_history(session.messages, note="cancelled by the user")
        for message in repaired[len(session.messages) :]:
            record(message)
        session.messages[:] = repaired
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # the turn is over; answer with what was recorded
    except BackendError as exc:
        error = str(exc)
        outcome = TurnOutcome("error", error=error)
    if outcome.stop_reason != "cancelled":
        session.usage.add(outcome.usage)
    return extras.result(
        finish_turn(
            store,
            deps.proposals,
            state,
            session.id,
            turn,
            outcome,
            journal_records=journal.to_record(),
            events=events,
            error=error,
            tier=deps.settings_for(state).tier,
        )
    )


def _mention_sources(
    deps: TurnDeps, state: FolderState, prompt: Prompt, window_tokens: int
) -> MentionSources:
    def session_answers(session_id: str) -> list[str] | None:
        try:
            loaded = deps.index.store.load(state.root.uri, session_id)
        except ValueError:
            return None
        return final_answers(loaded.records) if loaded is not None else None

    return MentionSources(
        workspace=deps.workspace,
        root=state.root,
        editor=deps.editor,
        selection=prompt.selection,
        diagnostics=prompt.diagnostics,
        session_answers=session_answers,
        resources=deps.resource_readers(),
        budget_chars=attachment_budget(window_tokens),
    )
