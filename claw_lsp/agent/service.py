"""The agent service: what every front door (LSP server, CLI, ACP, tests) calls.

`submit` is the one entry for a prompt: a slash command is answered locally, anything else
runs a model turn in the folder's queue (one turn per folder at a time, a few may wait).
The tier rule for `claw.setTier` lives here too, so every front door enforces it alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from claw_lsp.agent.core import AgentCore
from claw_lsp.agent.custom_commands import CommandExpansion
from claw_lsp.agent.plan_mode import plan_slash
from claw_lsp.agent.results import local_result
from claw_lsp.agent.slash import McpExpansion, parse_slash, run_slash
from claw_lsp.agent.state import FolderState
from claw_lsp.agent.turn import Prompt, run_model_turn
from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.tiers import Tier

__all__ = ["AgentService", "Prompt", "ServiceError"]
MAX_QUEUED_TURNS = 4


class AgentService(AgentCore):
    async def submit(
        self, prompt: Prompt, *, on_start: Callable[[str, int], None] = lambda s, t: None
    ) -> dict[str, object]:
        """Answers a prompt. `on_start(session, turn)` runs when a model turn begins (after it
        waited its turn in the folder's queue), before any event of it is emitted."""
        state = self.folder(prompt.folder, prompt.uri)
        slash = parse_slash(prompt.text)
        planned = plan_slash(prompt, slash)  # issue 18: `/plan <prompt>` is a plan-mode turn
        if planned is not None:
            prompt, slash = planned, None
        if slash is not None:
            answer = await run_slash(self, state, *slash, session_hint=prompt.session)
            if isinstance(answer, McpExpansion):
                prompt = replace(prompt, text=answer.text)  # an MCP prompt: a model turn
            elif isinstance(answer, CommandExpansion):
                # A custom command: its body is the prompt; it may narrow tools, never widen.
                prompt = replace(
                    prompt,
                    text=answer.prompt,
                    model=answer.model,
                    allowed_tools=answer.allowed_tools,
                    notices=(*prompt.notices, f"/{answer.name}: running the command's prompt"),
                )
            else:
                text, session = answer
                return local_result(text, session)
        return await self._queued_turn(state, prompt, on_start)

    async def _queued_turn(
        self, state: FolderState, prompt: Prompt, on_start: Callable[[str, int], None]
    ) -> dict[str, object]:
        if state.waiting >= MAX_QUEUED_TURNS:
            raise ServiceError("too many prompts are queued for this folder; wait or cancel")
        state.waiting += 1
        try:
            await state.lock.acquire()  # one turn per folder; the next waits its turn
        finally:
            state.waiting -= 1
        try:
            session = self.index.current(state, prompt.session)
            session.turns += 1
            turn = session.turns
            on_start(session.id, turn)
            state.running = asyncio.current_task()
            state.running_session = session.id
            self.on_status_change(state)
            return await run_model_turn(self.turn_deps(), state, session, turn, prompt)
        finally:
            state.running = None
            state.running_session = None
            state.lock.release()
            self.on_status_change(state)

    def cancel(self, session_id: str | None = None, folder: str | None = None) -> bool:
        for state in self.folders.values():
            if (
                state.running
                and (session_id is None or state.running_session == session_id)
                and (folder is None or state.root.uri == folder)
            ):
                state.running.cancel()
                return True
        return False

    def set_tier(self, folder: str | None, tier: Tier) -> FolderState:
        """Only the user reaches this (the model has no tool for it). Raising the tier while a
        turn runs is refused: a prompt-injected turn must not be able to ride on it. Lowering
        it drops the session grants, which were given under the higher tier."""
        state = self.folder(folder)
        before = self.settings_for(state).tier
        if state.running is not None and tier.rank > before.rank:
            raise ServiceError("a turn is running; cancel it or wait before raising the tier")
        state.tier = tier
        if tier.rank < before.rank:
            for session in state.sessions.values():
                session.grants.keys.clear()
        self.on_status_change(state)
        return state
