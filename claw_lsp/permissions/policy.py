"""The permission decision for one tool call: allow, ask or deny. Server-side only; nothing the
model writes reaches this module except the call itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.access import access_kind
from claw_lsp.permissions.rules import PermissionRules
from claw_lsp.permissions.shell_classify import Risk, classify

Action = Literal["allow", "ask", "deny"]


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    grant_key: str | None = None  # what "Allow for session" would remember
    allow_session: bool = True


@dataclass
class SessionGrants:
    """ "Allow for session" answers. Shell grants bind to the exact command and cwd; write grants
    cover non-protected files. Never persisted, never read from history."""

    keys: set[str] = field(default_factory=set)

    def has(self, key: str | None) -> bool:
        return key is not None and key in self.keys

    def add(self, key: str | None) -> None:
        if key:
            self.keys.add(key)


@dataclass(frozen=True)
class CallFacts:
    kind: str  # an access kind (permissions/access.py); an unmapped kind is denied
    tool: str
    relative_paths: tuple[str, ...] = ()
    protected: str | None = None  # reason, when a path is protected
    sensitive: bool = False
    command: str | None = None
    cwd: str | None = None
    workspace_roots: tuple[str, ...] = ()
    target: str | None = None  # tool-matcher kinds: what the call reads (`server:uri`)
    # A trusted MCP server annotated the tool readOnlyHint (the user chose to believe it).
    trusted_read_only: bool = False


def decide(
    facts: CallFacts,
    *,
    tier: Tier,
    approvals: str,
    rules: PermissionRules,
    grants: SessionGrants,
    sandboxed: bool,
    allow_unsandboxed: bool = True,
) -> Decision:
    if access_kind(facts.kind) is None:
        return Decision(
            "deny", f"{facts.tool} has an unknown access kind {facts.kind!r}", None, False
        )
    if facts.kind == "shell" and not sandboxed and not allow_unsandboxed and tier != Tier.UNSAFE:
        # The user's policy turns the "approve an unsandboxed command" escape off entirely.
        return Decision("deny", "no sandbox is available and allowUnsandboxed is off", None, False)
    decision = _decide(facts, tier=tier, rules=rules, grants=grants, sandboxed=sandboxed)
    if decision.action == "ask" and approvals == "deny":
        return Decision("deny", decision.reason + " (approvals are off)", None, False)
    return decision


def _decide(
    facts: CallFacts, *, tier: Tier, rules: PermissionRules, grants: SessionGrants, sandboxed: bool
) -> Decision:
    kind = access_kind(facts.kind)
    assert kind is not None  # decide() denied unmapped kinds
    if kind.matcher == "shell":
        return _decide_shell(facts, tier, rules, grants, sandboxed)
    if kind.matcher == "tool":
        return _decide_tool(facts, tier, rules, grants)
    if kind.matcher == "session":  # the agent's own state: only a rule naming the tool denies
        if rules.decide_tool(facts.tool) == "deny":
            return Decision("deny", f"a user rule denies {facts.tool}", None, False)
        return Decision("allow", "changes only the session's own state")
    for rel in facts.relative_paths:
        verdict = rules.decide_path(facts.tool, rel)
        if verdict == "deny":
            return Decision("deny", f"a user rule denies {facts.tool} on {rel}", None, False)
    if tier == Tier.UNSAFE:
        return Decision("allow", "unsafe tier")
    if facts.protected:
        # Per-change approval, never a session grant, at every tier below unsafe.
        return Decision("ask", facts.protected, None, allow_session=False)
    if kind.matcher == "read-path":
        if facts.sensitive:
            key = f"read:{facts.relative_paths[0]}" if facts.relative_paths else None
            if grants.has(key) or _all_rules(rules, facts, "allow"):
                return Decision("allow", "allowed by grant or rule")
            return Decision("ask", "this file may hold credentials", key)
        return Decision("allow", "read access")
    if kind.matcher != "write-path":
        return Decision("deny", f"no permission rule handles {facts.tool}", None, False)
    if _all_rules(rules, facts, "ask"):
        return Decision("ask", "a user rule asks before this change", None, False)
    if tier.allows(kind.auto_tier):
        return Decision("allow", f"{kind.auto_tier.value} tier")
    if grants.has("write") or _all_rules(rules, facts, "allow"):
        return Decision("allow", "allowed for this session")
    return Decision("ask", f"changing files needs the write tier (current: {tier.value})", "write")


def _decide_tool(
    facts: CallFacts, tier: Tier, rules: PermissionRules, grants: SessionGrants
) -> Decision:
    """Tools the server cannot see into (MCP): rules by tool name, the trusted server's
    readOnlyHint, a session grant for this tool, else ask."""
    verdict = rules.decide_tool(facts.tool, facts.target)
    if verdict == "deny":
        return Decision("deny", f"a user rule denies {facts.tool}", None, False)
    if tier == Tier.UNSAFE:
        return Decision("allow", "unsafe tier")
    server = (facts.target or "").partition(":")[0]
    key = f"tool:{facts.tool}:{server}" if server else f"tool:{facts.tool}"
    if verdict == "ask":
        return Decision("ask", f"a user rule asks before {facts.tool}", key)
    if verdict == "allow":
        return Decision("allow", "allowed by a user rule")
    if facts.trusted_read_only:
        return Decision("allow", "a read-only tool of a trusted MCP server")
    if grants.has(key):
        return Decision("allow", "allowed for this session")
    return Decision("ask", "MCP tools ask before every call below the unsafe tier", key)


def may_offer(
    kind_name: str,
    tool: str,
    *,
    tier: Tier,
    approvals: str,
    rules: PermissionRules,
    trusted_read_only: bool = False,
) -> bool:
    """Whether a tool is offered to the model at all: only tools a call could ever run. With
    approvals off that means what runs unasked: by tier, or (tools named by rules) by an allow
    rule or a trusted server's readOnlyHint; a tool a rule denies is never offered."""
    kind = access_kind(kind_name)
    if kind is None:
        return False
    verdict = rules.decide_tool(tool) if kind.matcher in ("tool", "session") else None
    if verdict == "deny":
        return False
    if approvals != "deny" or tier.allows(kind.auto_tier):
        return True
    if kind.matcher == "session":
        return True
    return kind.matcher == "tool" and (
        verdict == "allow" or (verdict is None and trusted_read_only)
    )


def _all_rules(rules: PermissionRules, facts: CallFacts, wanted: str) -> bool:
    if not facts.relative_paths:
        return False
    verdicts = [rules.decide_path(facts.tool, rel) for rel in facts.relative_paths]
    if wanted == "ask":
        return any(v == "ask" for v in verdicts)
    return all(v == wanted for v in verdicts)


def _decide_shell(
    facts: CallFacts, tier: Tier, rules: PermissionRules, grants: SessionGrants, sandboxed: bool
) -> Decision:
    command = facts.command or ""
    verdict = classify(
        command,
        cwd=Path(facts.cwd) if facts.cwd else None,
        workspace_roots=[Path(r) for r in facts.workspace_roots],
    )
    key = f"shell:{facts.cwd}:{command}"
    ruled = rules.decide_shell(verdict)
    if ruled == "deny":
        return Decision("deny", "a user rule denies this command", None, False)
    if tier == Tier.UNSAFE:
        return Decision("allow", "unsafe tier")
    if verdict.refused:
        return Decision("deny", "; ".join(verdict.refused), None, False)
    protected = facts.protected or "; ".join(verdict.protected)
    if protected:
        # The one protected-path rule: a per-change approval, never a session grant.
        return Decision("ask", f"it writes a protected path: {protected}", None, False)
    if ruled == "ask":
        return Decision("ask", "a user rule asks before this command", key)
    if grants.has(key):
        return Decision("allow", "allowed for this session")
    reasons = "; ".join(verdict.reasons) or verdict.risk.value
    if not sandboxed:
        # Without an OS sandbox nothing runs unseen, not even "read-only" commands.
        return Decision(
            "ask", f"no sandbox available: every command needs approval ({reasons})", key
        )
    if verdict.risk == Risk.READ_ONLY:
        return Decision("allow", "read-only command, sandboxed")
    if not tier.allows(Tier.SHELL):
        return Decision(
            "ask", f"running commands needs the shell tier (current: {tier.value}): {reasons}", key
        )
    if ruled == "allow" or verdict.risk == Risk.ORDINARY:
        return Decision("allow", "shell tier, sandboxed")
    return Decision("ask", reasons, key)


def display_safe(text: str, limit: int = 2000) -> str:
    """Escape control and bidirectional characters so an approval shows what will really run."""
    return escape_for_display(text, limit=limit)
