"""The context engine of one turn: it sits on the ChatModel seam, so it sees every request
exactly as it goes out, and before each one it

- adds the instruction files of subfolders the agent has started working in (a user-role
  message after the tool results, recorded like any other message);
- measures the request and, past `compact_threshold` of the window, replaces the older part
  of the conversation with a summary the model writes (kept in place in the turn's message
  list and recorded as a `compaction` record);
- on a "context length exceeded" error compacts once and retries once; a second overflow is
  the turn's error (no loop, BF-13);
- afterwards records the request's size and the backend's reported usage (token accounting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claw_lsp.agent.history import wire_message
from claw_lsp.config import Settings
from claw_lsp.context.compaction import (
    KEEP_RECENT_MESSAGES,
    SUMMARY_SYSTEM_PROMPT,
    Compaction,
    compact_messages,
    shrink_tool_results,
)
from claw_lsp.context.tokens import (
    ContextStats,
    RequestSize,
    fetch_metadata_window,
    json_chars,
    measure_request,
    resolve_window,
)
from claw_lsp.context.turn_context import nested_rules_message
from claw_lsp.llm.base import BackendError, ChatModel, ChatRequest, ModelReply
from claw_lsp.llm.text_mode import text_mode_messages
from claw_lsp.permissions.paths import Root

Notice = Callable[[str], None]
# Share of the window a summary request's transcript may take (the summary needs room too).
TRANSCRIPT_SHARE = 0.5
# Share of the window the verbatim recent messages may take after a compaction.
TAIL_SHARE = 0.25
# A proactive compaction again within one turn only after the request grew this much more.
REGROWTH_SHARE = 0.25


@dataclass
class TurnContext:
    """What the engine needs from the service for one turn (or one /compact)."""

    settings: Settings
    stats: ContextStats
    messages: list[dict[str, Any]]  # the session's live list, changed in place
    root: Root
    turn: int
    record_message: Callable[[dict[str, Any]], None]
    record_compaction: Callable[[dict[str, Any]], None]
    worked_paths: Callable[[], Iterable[Path]] = lambda: ()
    system_prompt: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)


class ContextManagedModel:
    """A ChatModel that manages the context of the requests it forwards."""

    def __init__(self, inner: ChatModel, ctx: TurnContext) -> None:
        self.inner = inner
        self.ctx = ctx
        self.model_name = inner.model_name
        self._overflow_retried = False
        self._compacted_at_chars: int | None = None

    async def complete(
        self,
        request: ChatRequest,
        *,
        on_text: Callable[[str], None],
        on_notice: Notice = lambda _: None,
    ) -> ModelReply:
        ctx = self.ctx
        ctx.stats.text_mode = getattr(self.inner, "tool_mode", "native") == "text"
        await fetch_metadata_window(
            ctx.stats, ctx.settings.base_url, self.inner.model_name, ctx.settings.api_key
        )
        changed = self._add_nested_rules()
        if self._over_threshold(request if not changed else self._rebuild(request)):
            compaction = await compact_turn(
                self.inner, ctx, reason="threshold", on_notice=on_notice
            )
            changed = changed or compaction is not None
            if compaction is not None:
                self._compacted_at_chars = _size(self._rebuild(request)).total_chars
        if changed:
            request = self._rebuild(request)
        size = _size(request)
        try:
            reply = await self.inner.complete(request, on_text=on_text, on_notice=on_notice)
        except BackendError as exc:
            if exc.kind != "context_length" or self._overflow_retried:
                raise
            self._overflow_retried = True
            ctx.stats.learn_overflow(size, str(exc))
            if await compact_turn(self.inner, ctx, reason="overflow", on_notice=on_notice) is None:
                raise
            request = self._rebuild(request)
            size = _size(request)
            reply = await self.inner.complete(request, on_text=on_text, on_notice=on_notice)
        ctx.stats.observe(size, reply.usage)
        return reply

    def _add_nested_rules(self) -> bool:
        ctx = self.ctx
        if not ctx.messages or ctx.messages[-1].get("role") != "tool":
            return False  # turn start: the user message already carries what applies
        message = nested_rules_message(ctx.root, ctx.messages, ctx.worked_paths())
        if message is None:
            return False
        ctx.messages.append(message)
        ctx.record_message(message)
        return True

    def _over_threshold(self, request: ChatRequest) -> bool:
        stats, settings = self.ctx.stats, self.ctx.settings
        window = resolve_window(settings.context_window, stats).tokens
        size = _size(request).total_chars
        if self._compacted_at_chars is not None:
            regrowth = REGROWTH_SHARE * window * stats.ratio()
            if size < self._compacted_at_chars + regrowth:
                return False
        return stats.tokens(size) > settings.compact_threshold * window

    def __getattr__(self, name: str) -> Any:
        # Everything else (tool_mode, base_url, close ...) is the wrapped model's.
        return getattr(self.inner, name)

    def _rebuild(self, request: ChatRequest) -> ChatRequest:
        """The same request over the changed message list, in the same wire form."""
        text_mode = getattr(self.inner, "tool_mode", "native") == "text"
        # Issue 15: the calls in the dialect the system prompt taught (the model's family).
        family = getattr(getattr(self.inner, "tool_family", None), "family", None)
        history = wire_history(self.ctx.messages, text_mode=text_mode, family=family)
        return ChatRequest([*request.messages[:1], *history], request.tools)


def wire_history(
    messages: Iterable[dict[str, Any]], *, text_mode: bool, family: str | None = None
) -> list[dict[str, Any]]:
    """The messages as the loop sends them (agent/loop.py `_WireForm.request`)."""
    history = [wire_message(m) for m in messages]
    return text_mode_messages(history, family) if text_mode else history


async def compact_turn(
    model: ChatModel | None,
    ctx: TurnContext,
    *,
    reason: str,
    on_notice: Notice = lambda _: None,
) -> Compaction | None:
    """Compact ctx.messages in place and record it; None when there was nothing to do."""
    stats, settings = ctx.stats, ctx.settings
    window = resolve_window(settings.context_window, stats).tokens
    before = sum(json_chars(wire_message(m)) for m in ctx.messages)
    on_notice("context is getting full: summarising the earlier conversation")
    summarise = _summariser(model, on_notice) if model is not None else None
    budget = int(window * TRANSCRIPT_SHARE * stats.ratio())
    most = KEEP_RECENT_MESSAGES if reason != "overflow" else KEEP_RECENT_MESSAGES // 2
    keep = _recent_that_fit(ctx.messages, int(window * TAIL_SHARE * stats.ratio()), most)
    compaction = await compact_messages(
        ctx.messages, summarise=summarise, keep_recent=keep, transcript_chars=budget
    )
    new = compaction.messages if compaction is not None else [dict(m) for m in ctx.messages]
    # Even the recent messages may not fit (one huge tool output): cut those as a last resort.
    fixed = _fixed_chars(ctx)
    room = int(settings.compact_threshold * window * stats.ratio()) - fixed
    too_big = sum(json_chars(wire_message(m)) for m in new) > room
    if too_big and shrink_tool_results(new, max(800, room // 4)) and compaction is None:
        compaction = Compaction(new, 0, "", False)
    if compaction is None:
        return None
    ctx.messages[:] = new
    after = sum(json_chars(wire_message(m)) for m in new)
    stats.compactions += 1
    ctx.record_compaction(
        {
            "type": "compaction",
            "turn": ctx.turn,
            "reason": reason,
            "messages": new,
            "replaced": compaction.replaced,
            "summary": compaction.summary,
            "summaryBy": "model" if compaction.by_model else "local",
            "charsBefore": before,
            "charsAfter": after,
        }
    )
    on_notice(
        f"compacted the conversation: about {stats.tokens(before)} -> {stats.tokens(after)} tokens"
    )
    return compaction


def _summariser(model: ChatModel, on_notice: Notice) -> Callable[[str], Any]:
    async def summarise(transcript: str) -> str:
        request = ChatRequest(
            [
                {"role": "system", "content": SUMMARY_SYSTEM_PROMPT},
                {"role": "user", "content": transcript},
            ],
            [],
        )
        reply = await model.complete(request, on_text=lambda _: None, on_notice=on_notice)
        return reply.text

    return summarise


def _recent_that_fit(messages: list[dict[str, Any]], budget_chars: int, most: int) -> int:
    """How many of the latest messages stay verbatim: at least one, at most `most`, and
    only as many as fit the budget (a huge last prompt keeps just itself)."""
    used = 0
    for count, message in enumerate(reversed(messages[-most:]), start=1):
        used += json_chars(wire_message(message))
        if used > budget_chars:
            return max(1, count - 1)
    return min(most, len(messages))


def _fixed_chars(ctx: TurnContext) -> int:
    system = json_chars({"role": "system", "content": ctx.system_prompt})
    return system + (json_chars(ctx.tools) if ctx.tools else 0)


def _size(request: ChatRequest) -> RequestSize:
    return measure_request(list(request.messages), list(request.tools))
