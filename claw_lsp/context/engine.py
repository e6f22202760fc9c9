"""The context engine of one turn: the step the agent loop runs before every request.

Before each request it
- adds the instruction files of subfolders the agent has started working in (a user-role
  message after the tool results, recorded like any other message);
- builds the request (through the model, in its wire form) and measures it; past
  `compact_threshold` of the window it replaces the older part of the conversation with a
  summary the model writes (kept in place in the turn's message list and recorded as a
  `compaction` record).
After a "context length exceeded" error it compacts once so that the loop can retry once; a
second overflow is the turn's error (no loop, BF-13). It records each request's size and the
backend's reported usage (token accounting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    WindowInfo,
    fetch_metadata_window,
    json_chars,
    resolve_window,
)
from claw_lsp.context.turn_context import NestedRulesWatch
from claw_lsp.foundation.messages import Usage, wire_message
from claw_lsp.llm.base import BackendError, ChatModel, ChatRequest
from claw_lsp.permissions.paths import Root

Notice = Callable[[str], None]
# Share of the window a summary request's transcript may take (the summary needs room too).
TRANSCRIPT_SHARE = 0.5
# Share of the window the verbatim recent messages may take after a compaction.
TAIL_SHARE = 0.25
# A proactive compaction again within one turn only after the request grew this much more.
REGROWTH_SHARE = 0.25


def _ignore(_: str) -> None:
    pass


@dataclass
class TurnContext:
    """What the engine needs from the agent for one turn (or one /compact)."""

    settings: Settings
    stats: ContextStats
    messages: list[dict[str, Any]]  # the session's live list, changed in place
    root: Root
    turn: int
    record_message: Callable[[dict[str, Any]], object]
    record_compaction: Callable[[dict[str, Any]], object]
    worked_paths: Callable[[], Iterable[Path]] = lambda: ()
    system_prompt: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    # Asked before every request: the tool list can grow within a turn when the model loads a
    # deferred tool's schema (mcp_tools); everything already sent stays a prefix.
    refresh_tools: Callable[[], list[dict[str, Any]]] | None = None
    # Issue 18: a block the model sees at the end of every request (the todo list), never
    # recorded; at the end so the system prompt, tools and history stay a byte-stable prefix.
    reminder: Callable[[], str | None] | None = None


class ContextStep:
    """Prepares every request of one turn; the loop calls it, it never calls the loop."""

    def __init__(self, ctx: TurnContext, model: ChatModel) -> None:
        self.ctx = ctx
        self.model = model
        self._overflow_retried = False
        self._compacted_at_chars: int | None = None
        self._nested_rules = NestedRulesWatch()

    async def request(self, on_notice: Notice = _ignore) -> ChatRequest:
        """The next request over the current messages, compacted first when it is too big."""
        ctx = self.ctx
        ctx.stats.text_mode = self.model.tool_mode == "text"
        await fetch_metadata_window(
            ctx.stats, ctx.settings.base_url, self.model.model_name, ctx.settings.api_key
        )
        if self.model.context_window and ctx.stats.metadata_window is None:
            ctx.stats.metadata_window = WindowInfo(
                self.model.context_window, "n_ctx the embedded server was started with"
            )
        self._add_nested_rules()
        request = self._build()
        if self._over_threshold(request):
            compaction = await compact_turn(
                self.model, ctx, reason="threshold", on_notice=on_notice
            )
            if compaction is not None:
                request = self._build()
                self._compacted_at_chars = _size(request, ctx.stats).total_chars
        return request

    async def after_overflow(
        self, request: ChatRequest, error: BackendError, on_notice: Notice = _ignore
    ) -> ChatRequest | None:
        """A smaller request to retry with once, or None: the overflow is the turn's error."""
        if self._overflow_retried:
            return None
        self._overflow_retried = True
        self.ctx.stats.learn_overflow(_size(request, self.ctx.stats), str(error))
        compaction = await compact_turn(
            self.model, self.ctx, reason="overflow", on_notice=on_notice
        )
        return None if compaction is None else self._build()

    def observe(self, request: ChatRequest, usage: Usage | None) -> None:
        self.ctx.stats.observe(_size(request, self.ctx.stats), usage)

    def _build(self) -> ChatRequest:
        ctx = self.ctx
        if ctx.refresh_tools is not None:
            ctx.tools = ctx.refresh_tools()
        return self.model.build_request(ctx.system_prompt, ctx.tools, self._with_reminder())

    def _with_reminder(self) -> list[dict[str, Any]]:
        """The messages plus the reminder: appended to a final user message (some chat
        templates refuse two user messages in a row), else as a user message of its own."""
        messages = self.ctx.messages
        block = self.ctx.reminder() if self.ctx.reminder is not None else None
        if not block:
            return messages
        last = messages[-1] if messages else None
        if last is not None and last.get("role") == "user" and isinstance(last.get("content"), str):
            return [*messages[:-1], {**last, "content": f"{last['content']}\n\n{block}"}]
        return [*messages, {"role": "user", "content": block}]

    def _add_nested_rules(self) -> None:
        ctx = self.ctx
        if not ctx.messages or ctx.messages[-1].get("role") != "tool":
            return  # turn start: the user message already carries what applies
        message = self._nested_rules.message(ctx.root, ctx.messages, ctx.worked_paths())
        if message is not None:
            ctx.messages.append(message)
            ctx.record_message(message)

    def _over_threshold(self, request: ChatRequest) -> bool:
        stats, settings = self.ctx.stats, self.ctx.settings
        window = resolve_window(settings.context_window, stats).tokens
        size = _size(request, stats).total_chars
        if self._compacted_at_chars is not None:
            regrowth = REGROWTH_SHARE * window * stats.ratio()
            if size < self._compacted_at_chars + regrowth:
                return False
        return stats.tokens(size) > settings.compact_threshold * window


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
        request = model.build_request(
            SUMMARY_SYSTEM_PROMPT, [], [{"role": "user", "content": transcript}]
        )
        reply = await model.reply(request, on_text=_ignore, on_notice=on_notice)
        return reply.raw_text

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


def _size(request: ChatRequest, stats: ContextStats) -> RequestSize:
    # Issue 22: each message measured once, when first sent; not the whole history per step.
    return stats.sizer.measure(request.messages, request.tools)
