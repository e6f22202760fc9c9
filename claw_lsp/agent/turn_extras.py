"""What plans, todo lists and subagents (issue 18) add to a model turn, in one place so the
turn assembly (agent/turn.py) only calls in: the todo board and its reminder, plan mode's
settings, tools and hand-over, and the subagent runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from claw_lsp.agent.loop import TurnOutcome
from claw_lsp.agent.state import FolderState, SessionState
from claw_lsp.agent.subagents import Subagents, SubagentSlots
from claw_lsp.agent.todos import SessionTodos, reminder, todos_from_plan
from claw_lsp.config import Settings
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import Approver
from claw_lsp.foundation.secrets import neutralize_markdown, redact
from claw_lsp.foundation.tiers import Tier
from claw_lsp.llm.provider import ModelProvider
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.base import ToolContext
from claw_lsp.tools.catalog import Toolbox
from claw_lsp.tools.plan import EXIT_PLAN_MODE

PLAN_MODE_NOTE = (
    "<plan-mode>\nPlan mode: investigate with the read-only tools and change nothing. When "
    "your plan is ready, call exit_plan_mode with it (Markdown, one numbered step per line); "
    "the user reviews it before anything is changed.\n</plan-mode>"
)


def mode_settings(settings: Settings, mode: str) -> Settings:
    """Plan mode runs read-only whatever the tier, with approvals off: a write is simply not
    offered (and refused if the model writes one anyway), so no dialog ever comes up."""
    if mode != "plan":
        return settings
    return replace(settings, tier=Tier.READ_ONLY, approvals="deny")


class _PlanDesk:
    def __init__(self, extras: TurnExtras) -> None:
        self._extras = extras

    def hand_over(self, plan: str) -> None:
        self._extras.handed_over(plan)


class TurnExtras:
    def __init__(
        self,
        store: SessionStore,
        state: FolderState,
        session: SessionState,
        turn: int,
        events: EventSink,
        mode: str = "ask",
    ) -> None:
        self.state = state
        self.session = session
        self.turn = turn
        self.mode = mode
        self.plan: str | None = None
        self._events = events

        def record(entry: dict[str, Any]) -> None:
            store.append(state.root.uri, session.id, [{**entry, "turn": turn}])

        self._record = record
        self.todos = SessionTodos(session.todos, record, events)

    def attach(self, ctx: ToolContext) -> None:
        ctx.todos = self.todos
        if self.mode == "plan":
            ctx.plan = _PlanDesk(self)

    def toolbox(self, toolbox: Toolbox, settings: Settings) -> Toolbox:
        if settings.subagent_depth == 0:
            toolbox = Toolbox.of(t for t in toolbox.tools if t.name != "task")
        if self.mode != "plan":
            return toolbox
        return Toolbox.of([*toolbox.tools, EXIT_PLAN_MODE])

    def attach_subagents(
        self,
        ctx: ToolContext,
        toolbox: Toolbox,
        *,
        store: SessionStore,
        models: ModelProvider,
        approver: Approver,
        system_prompt: str,
        slots: SubagentSlots,
    ) -> None:
        """The turn's Delegator: `task` calls run their child agents through it."""
        ctx.subagents = Subagents(
            store=store,
            models=models,
            approver=approver,
            system_prompt=system_prompt,
            slots=slots,
            state=self.state,
            session=self.session,
            turn=self.turn,
            ctx=ctx,
            toolbox=toolbox,
        )

    def prompt_text(self, text: str) -> str:
        return f"{text}\n\n{PLAN_MODE_NOTE}" if self.mode == "plan" else text

    def reminder(self) -> Callable[[], str | None]:
        return lambda: reminder(self.session.todos)

    def seed_from_plan(self, plan: str | None) -> None:
        """An accepted plan seeds the todo list with its steps, and is no longer pending (a
        second accept would run it twice)."""
        if plan:
            self.todos.replace(todos_from_plan(plan))
            self.session.plan = None
            self._record({"type": "plan", "plan": ""})

    def handed_over(self, plan: str) -> None:
        self.plan = self.session.plan = plan
        self._record({"type": "plan", "plan": plan})
        self._events.emit("plan", {"plan": shown_plan(plan)})

    def finish(self, outcome: TurnOutcome) -> str | None:
        """The turn's error; a plan handed over ends the turn as `stopReason: "plan"`."""
        if self.plan is not None:
            outcome.stop_reason = "plan"
            outcome.error = None
        return outcome.error

    def result(self, result: dict[str, Any]) -> dict[str, Any]:
        if self.plan is not None and result.get("stopReason") == "plan":
            result["plan"] = shown_plan(self.plan)
        return result


def shown_plan(plan: str) -> str:
    """The plan as the editor gets it: model text, so redacted and with remote markup off."""
    return neutralize_markdown(redact(plan))
