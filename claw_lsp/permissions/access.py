"""Access kinds: the explicit table every tool's `kind` is looked up in.

Each kind says the lowest tier that runs a call of that kind without asking, and which rule
matcher applies to it (path rules, shell rules, or rules naming the tool). A kind that is not
in the table is denied, never treated as something it might resemble: a new tool source must
add its kind here, with a reason, before any of its calls can run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from claw_lsp.foundation.tiers import Tier

Matcher = Literal["read-path", "write-path", "shell", "tool", "session"]


@dataclass(frozen=True)
class AccessKind:
    name: str
    auto_tier: Tier  # the lowest tier that runs it without asking
    matcher: Matcher  # which permission rules apply, and how the decision is made
    description: str


ACCESS_KINDS: dict[str, AccessKind] = {
    kind.name: kind
    for kind in (
        AccessKind("read", Tier.READ_ONLY, "read-path", "reads files in the workspace"),
        AccessKind("write", Tier.WRITE, "write-path", "changes files in the workspace"),
        AccessKind("shell", Tier.SHELL, "shell", "runs a shell command"),
        # An MCP server's tool does whatever its server does: nothing in the call tells us, so
        # only the unsafe tier runs it unasked; rules naming the tool, or a trusted server's
        # readOnlyHint, allow it below that (policy.py).
        AccessKind("mcp", Tier.UNSAFE, "tool", "calls a tool of an MCP server"),
        # Issue 18. These change only the agent's own session state (nothing on disk, no
        # process), so read-only runs them; a rule naming the tool can still deny it.
        AccessKind("todo", Tier.READ_ONLY, "session", "updates the session's todo list"),
        AccessKind("plan", Tier.READ_ONLY, "session", "hands a plan to the user (plan mode)"),
        # A subagent's every call is decided on its own (same orchestrator, a tier never above
        # the parent's), so starting one touches nothing by itself.
        AccessKind("agent", Tier.READ_ONLY, "session", "starts a subagent"),
    )
}


def access_kind(name: str) -> AccessKind | None:
    """The kind's entry; None for a kind nobody mapped, which every caller must deny."""
    return ACCESS_KINDS.get(name)
