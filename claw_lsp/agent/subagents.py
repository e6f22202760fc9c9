"""Subagents: the `task` tool's child agent (issue 18).

A child starts from a fresh context (the system prompt, the rules files and the task; none of
the parent's history), runs the same loop through its own Orchestrator over the parent's
tools (never `exit_plan_mode` or `todo_write`; `task` only while `subagentDepth` allows), at
a tier never above the parent's (read-only, approvals off, unless the call asks to inherit),
and returns only its final answer. Its events carry `parent: {session, turn, callId}`; its
messages are recorded in the session file as `subagent` records under the parent call, which
the conversation history skips. It runs inside the parent's tool call, so cancelling the
parent cancels it. At most `subagentParallel` children run at once (SubagentSlots)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from claw_lsp.agent.loop import TurnInputs, run_turn
from claw_lsp.agent.state import FolderState, SessionState
from claw_lsp.agent.subagent_types import AgentType, agent_types
from claw_lsp.config import Settings
from claw_lsp.context.engine import ContextStep, TurnContext
from claw_lsp.context.tokens import ContextStats
from claw_lsp.context.turn_context import build_user_message
from claw_lsp.foundation.events import EventSink
from claw_lsp.foundation.ports import Approver
from claw_lsp.foundation.tiers import Tier
from claw_lsp.llm.base import BackendError
from claw_lsp.llm.provider import ModelProvider
from claw_lsp.permissions.policy import SessionGrants
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.sessions.store import SessionStore
from claw_lsp.tools.agent_ports import DelegateRequest, DelegateResult
from claw_lsp.tools.base import Tool, ToolContext, cap_text
from claw_lsp.tools.catalog import Toolbox
from claw_lsp.tools.orchestrator import Orchestrator

RESULT_CAP_CHARS = 12_000
NEVER_FOR_CHILDREN = frozenset({"exit_plan_mode", "todo_write"})


class SubagentSlots:
    """How many children may run at once, across every folder (one GPU serves them all)."""

    def __init__(self) -> None:
        self._limit = 0
        self._semaphore: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def hold(self, limit: int) -> AsyncIterator[None]:
        if self._semaphore is None or limit != self._limit:
            # A new limit applies to children started from now on; running ones keep theirs.
            self._semaphore, self._limit = asyncio.Semaphore(limit), limit
        async with self._semaphore:
            yield


class ChildEvents:
    """The parent's sink with the parent tag on every event; streamed text is sent as one
    event per reply so that it never mixes into the parent's text stream."""

    def __init__(self, parent: EventSink, tag: dict[str, Any]) -> None:
        self._parent = parent
        self._tag = tag
        self._text: list[str] = []

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "text":
            self._text.append(str(payload.get("delta", "")))
            return
        self.flush()
        self._parent.emit(kind, {**payload, "parent": self._tag})

    def flush(self) -> None:
        if self._text:
            text, self._text = "".join(self._text), []
            self._parent.emit("text", {"delta": text, "parent": self._tag})


@dataclass
class Subagents:
    """The Delegator (tools/agent_ports.py) of one agent of a turn (the parent, or a child
    that may nest further)."""

    store: SessionStore
    models: ModelProvider
    approver: Approver
    system_prompt: str
    slots: SubagentSlots
    state: FolderState
    session: SessionState
    turn: int
    ctx: ToolContext  # the delegating agent's
    toolbox: Toolbox  # the delegating agent's tools
    depth: int = 0  # the delegating agent's depth (the main agent: 0)
    types: dict[str, AgentType] = field(default_factory=dict)

    async def delegate(self, request: DelegateRequest) -> DelegateResult:
        types = self.types or agent_types(self.state.root.real_path)
        agent = types.get(request.agent or "general")
        if agent is None:
            known = ", ".join(types)
            return DelegateResult(
                f"Error: no agent type {request.agent!r}; available: {known}",
                "no such agent",
                False,
            )
        read_only = agent.read_only or (request.tools or "read-only") == "read-only"
        parent_settings = self.ctx.settings

        def current() -> Settings:
            # Asked on every call, like the parent's: a tier lowered mid-turn applies here too.
            base = parent_settings()
            if read_only:  # never above the parent: read-only is the lowest tier there is
                return replace(base, tier=Tier.READ_ONLY, approvals="deny")
            return base

        settings = current()
        tag = {"session": self.session.id, "turn": self.turn, "callId": request.call_id}
        events = ChildEvents(self.ctx.events, tag)
        depth = self.depth + 1
        toolbox = Toolbox.of(
            t for t in self.toolbox.tools if _child_may_use(t, agent, depth, settings)
        )
        ctx = replace(
            self.ctx,
            settings=current,
            events=events,
            read_hashes={},
            loaded_tools=[],
            todos=None,
            plan=None,
            subagents=None,
            call_id=None,
        )
        if depth < settings.subagent_depth:
            ctx.subagents = replace(self, ctx=ctx, toolbox=toolbox, depth=depth, types=types)
        grants = SessionGrants() if read_only else self.session.grants
        uri, session_id = self.state.root.uri, self.session.id

        def record(message: dict[str, Any]) -> None:
            entry = {"type": "subagent", "turn": self.turn, "parent": tag, "agent": agent.name}
            self.store.append(uri, session_id, [{**entry, "message": message}])

        def record_compaction(compaction: dict[str, Any]) -> None:
            entry = {"type": "subagent", "turn": self.turn, "parent": tag, "agent": agent.name}
            self.store.append(uri, session_id, [{**entry, "compaction": compaction}])

        rules = PermissionRules.from_config(settings.permissions)

        def definitions() -> list[dict[str, Any]]:
            return toolbox.definitions(settings.tier, settings.approvals, rules, ctx.loaded_tools)

        task = f"{agent.instructions}\n\n<task>\n{request.description}\n\n{request.prompt}\n</task>"
        messages = [build_user_message(task, editor_context="", root=self.state.root)]
        record(messages[0])
        events.emit("notice", {"message": f"subagent {agent.name}: {request.description}"})
        try:
            model = await self.models.get(settings)
        except BackendError as exc:
            return DelegateResult(f"Error: the subagent could not start: {exc}", "no model", False)
        context = ContextStep(
            TurnContext(
                settings=settings,
                stats=ContextStats(),
                messages=messages,
                root=self.state.root,
                turn=self.turn,
                record_message=record,
                record_compaction=record_compaction,
                worked_paths=lambda: list(ctx.read_hashes),
                system_prompt=self.system_prompt,
                tools=definitions(),
                refresh_tools=definitions,
            ),
            model,
        )
        async with self.slots.hold(settings.subagent_parallel):
            try:
                outcome = await run_turn(
                    TurnInputs(
                        model=model,
                        context=context,
                        messages=messages,
                        orchestrator=Orchestrator(toolbox, ctx, self.approver, grants),
                        events=events,
                        record=record,
                        max_steps=settings.subagent_max_turns,
                        deadline_s=settings.turn_deadline,
                    )
                )
            finally:
                events.flush()
        self.session.usage.add(outcome.usage)
        summary = {"stopReason": outcome.stop_reason, "toolCalls": outcome.tool_calls}
        self.store.append(
            uri,
            session_id,
            [
                {
                    "type": "subagent",
                    "turn": self.turn,
                    "parent": tag,
                    "agent": agent.name,
                    "result": {**summary, "usage": outcome.usage.to_wire()},
                }
            ],
        )
        text = outcome.text.strip() or "(the subagent gave no answer)"
        if outcome.stop_reason != "done":
            text = f"{text}\n\n[the subagent stopped early: {outcome.error or outcome.stop_reason}]"
        return DelegateResult(
            cap_text(text, RESULT_CAP_CHARS),
            f"{agent.name}: {outcome.tool_calls} tool calls, {outcome.stop_reason}",
            ok=outcome.stop_reason == "done",
        )


def _child_may_use(tool: Tool, agent: AgentType, depth: int, settings: Settings) -> bool:
    if tool.name in NEVER_FOR_CHILDREN:
        return False
    if tool.name == "task" and depth >= settings.subagent_depth:
        return False  # subagentDepth 1: a child gets no task tool
    return agent.tools is None or tool.name in agent.tools
