"""One path for every tool call: validate -> decide -> ask -> run -> map errors.

Whatever happens, the model gets a tool result (ok or error) and the turn goes on; only a
cancellation propagates."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.messages import UNPARSED, ToolCall
from claw_lsp.foundation.ports import ApprovalRequest, Approver
from claw_lsp.foundation.secrets import redact
from claw_lsp.llm.arguments import parse_arguments
from claw_lsp.permissions.paths import is_sensitive_relative
from claw_lsp.permissions.policy import CallFacts, Decision, SessionGrants, decide
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.permissions.sandbox import probe_sandbox
from claw_lsp.tools.base import Access, Tool, ToolContext, ToolError, cap_text
from claw_lsp.tools.catalog import Toolbox

log = logging.getLogger(__name__)
REPEAT_LIMIT = 4
MAX_TOOL_CALLS_PER_TURN = 300  # the default of the maxToolCalls setting (issue 22)


@dataclass
class ToolCallResult:
    call_id: str
    name: str
    ok: bool
    content: str
    summary: str
    arguments: dict[str, Any] | None  # sanitised (None when invalid)
    stop_turn: bool = False


@dataclass
class Orchestrator:
    toolbox: Toolbox
    ctx: ToolContext
    approver: Approver
    grants: SessionGrants
    seen_calls: Counter[str] = field(default_factory=Counter)
    warned_unsandboxed: bool = False
    calls_made: int = 0

    async def execute(self, call: ToolCall) -> ToolCallResult:
        settings = self.ctx.settings()
        rules = PermissionRules.from_config(settings.permissions)
        offered = [t.name for t in self.toolbox.offered(settings.tier, settings.approvals, rules)]
        tool = self.toolbox.get(call.name)
        if tool is None or call.name not in offered:
            shown = [name for name in offered if not self._is_deferred(name)]
            return self._fail(
                call, None, f"unknown tool {call.name!r}; available: {', '.join(shown)}"
            )
        if call.parsed is UNPARSED:  # a call not read from a model reply (subagents, tests)
            call.parsed = parse_arguments(call.arguments)
        parsed = call.parsed
        if parsed.value is None:
            return self._fail(
                call,
                None,
                f"invalid arguments for {call.name}: {parsed.error}. "
                "Send a JSON object matching the tool's schema.",
            )
        try:
            args = tool.validate(parsed.value)
        except ToolError as exc:
            return self._fail(call, parsed.value, str(exc))
        self.calls_made += 1
        if self.calls_made > settings.max_tool_calls:
            result = self._fail(
                call,
                parsed.value,
                f"this turn reached its limit of {settings.max_tool_calls} tool calls "
                "(maxToolCalls); stopping. Summarise what you found and ask the user how to "
                "proceed, or raise maxToolCalls.",
            )
            result.stop_turn = True
            return result
        fingerprint = f"{call.name}:{json.dumps(parsed.value, sort_keys=True)}"
        self.seen_calls[fingerprint] += 1
        if self.seen_calls[fingerprint] > REPEAT_LIMIT:
            result = self._fail(
                call,
                parsed.value,
                f"{call.name} was called {self.seen_calls[fingerprint]} times with "
                "identical arguments in this turn (the call keeps repeating); stopping. "
                "Ask the user how to proceed.",
            )
            result.stop_turn = True
            return result
        self.ctx.call_id = call.id
        try:
            planned = tool.plan(args, self.ctx)
            access = await planned if inspect.isawaitable(planned) else planned
            if access.kind == "shell":
                self._warn_once_if_unsandboxed()
            decision = self._decide(tool, access)
            if decision.action == "deny":
                self.ctx.events.emit("approval", {"tool": call.name, "decision": "deny"})
            if decision.action == "ask":
                decision = await self._ask(tool, access, decision)
            if decision.action == "deny":
                return self._fail(
                    call,
                    parsed.value,
                    f"permission denied: {decision.reason}. Do not retry the same "
                    "call; tell the user what you wanted to do instead.",
                )
            await self._observe_before(access)
            output = await tool.run(args, self.ctx)
            if output.ok:
                note = await self._observe_after(access)
                if note:
                    output.content = f"{output.content}\n\n{note}"
        except ToolError as exc:
            return self._fail(call, parsed.value, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a tool must not end the turn or leak a traceback
            log.exception("tool %s failed", call.name)
            return self._fail(call, parsed.value, f"{call.name} failed: {type(exc).__name__}")
        content = redact(output.content)
        if content != output.content or self._touches_secrets(access):
            # SE-06: the user should know credentials may now be in the model's context.
            self.ctx.events.emit(
                "notice",
                {
                    "message": f"{call.name} may have put secrets into the model's context "
                    "(known token patterns were redacted; other values may not be)"
                },
            )
        return ToolCallResult(
            call.id,
            call.name,
            output.ok,
            cap_text(content),
            escape_for_display(redact(output.summary)),
            parsed.value,
            stop_turn=output.end_turn,
        )

    async def _observe_before(self, access: Access) -> None:
        if self.ctx.observer is None:
            return
        try:
            await self.ctx.observer.before(access.kind, access.paths)
        except asyncio.CancelledError:
            raise
        except Exception:  # observing must never stop a call
            log.exception("call observer failed before a call")

    async def _observe_after(self, access: Access) -> str:
        if self.ctx.observer is None:
            return ""
        try:
            return await self.ctx.observer.after(access.kind, access.paths)
        except asyncio.CancelledError:
            raise
        except Exception:  # the call already happened (an edit landed): report it as done
            log.exception("call observer failed after a call")
            return ""

    def _warn_once_if_unsandboxed(self) -> None:
        sandbox = probe_sandbox()
        if sandbox.available or self.warned_unsandboxed:
            return
        self.warned_unsandboxed = True
        self.ctx.events.emit(
            "notice",
            {
                "message": f"shell commands are NOT sandboxed ({sandbox.reason}); "
                "every command needs your approval"
            },
        )

    def _touches_secrets(self, access: Access) -> bool:
        if any(self.ctx.workspace.sensitive(p) for p in access.paths):
            return True
        words = re.split(r"[\s'\"<>|;&()=]+", access.command or "")
        return any(is_sensitive_relative(word) for word in words if word)

    def _is_deferred(self, name: str) -> bool:
        tool = self.toolbox.get(name)
        return tool is not None and tool.deferred and name not in self.ctx.loaded_tools

    def _decide(self, tool: Tool, access: Access) -> Decision:
        settings = self.ctx.settings()
        protected = None
        # A shell call's paths are the places it writes (tools/shell.py plans them): the same
        # protected-path rule and tier by target apply to them as to the write tools.
        if access.kind in ("write", "shell"):
            for target in access.paths:
                protected = protected or self.ctx.workspace.protected_reason(
                    target, settings.protected_paths
                )
        # Tier by target: a call is decided by the lowest tier of the folders it touches, so a
        # turn in a folder raised to `write` cannot write into a folder left at read-only.
        tier = settings.tier
        for target in access.paths:
            folder_tier = self.ctx.folder_tier(target.root)
            if folder_tier.rank < tier.rank:
                tier = folder_tier
        facts = CallFacts(
            kind=access.kind,
            tool=tool.name,
            relative_paths=tuple(p.relative for p in access.paths),
            protected=protected,
            sensitive=any(self.ctx.workspace.sensitive(p) for p in access.paths),
            command=access.command,
            cwd=str(access.cwd) if access.cwd else None,
            workspace_roots=tuple(str(r.real_path) for r in self.ctx.workspace.roots),
            target=access.target,
            trusted_read_only=access.trusted_read_only,
        )
        return decide(
            facts,
            tier=tier,
            approvals=settings.approvals,
            rules=PermissionRules.from_config(settings.permissions),
            grants=self.grants,
            sandboxed=probe_sandbox().available,
            allow_unsandboxed=settings.allow_unsandboxed,
        )

    async def _ask(self, tool: Tool, access: Access, decision: Decision) -> Decision:
        # Every part is escaped to one line: only the line break before "(in ...)" is ours.
        if access.command is not None:
            command = escape_for_display(access.command, limit=2000)
            subject = f"{command}\n(in {escape_for_display(str(access.cwd))})"
        elif access.paths:
            subject = ", ".join(escape_for_display(p.relative) for p in access.paths)
        else:
            subject = escape_for_display(access.subject or tool.name)
        request = ApprovalRequest(
            tool=tool.name,
            subject=subject,
            reason=escape_for_display(decision.reason),
            allow_session=decision.allow_session,
        )
        answer = await self.approver.ask(request)
        self.ctx.events.emit("approval", {"tool": tool.name, "decision": answer})
        if answer == "session" and decision.allow_session:
            self.grants.add(decision.grant_key)
            return Decision("allow", "allowed for this session")
        if answer in ("once", "session"):
            return Decision("allow", "allowed once")
        return Decision("deny", "the user declined")

    def _fail(self, call: ToolCall, args: dict[str, Any] | None, message: str) -> ToolCallResult:
        message = redact(message)
        summary = escape_for_display(message[:200])
        return ToolCallResult(call.id, call.name, False, f"Error: {message}", summary, args)
