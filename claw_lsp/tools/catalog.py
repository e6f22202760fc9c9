"""The tools of one turn, gathered from every tool source in a fixed order.

Order matters: the tool definitions are part of every request's prefix, and vLLM/llama.cpp
reuse a cached prefix only when it is byte-identical. Sources are asked in the order they
were registered (the built-ins first), each lists its tools in its own deterministic order,
and a name taken by an earlier source is never replaced by a later one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.access import access_kind
from claw_lsp.permissions.paths import Root
from claw_lsp.tools.base import Tool, ToolSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Toolbox:
    """An immutable set of tools for one turn (or one /tools, /context listing)."""

    tools: tuple[Tool, ...] = ()
    by_name: Mapping[str, Tool] = field(default_factory=dict)

    @classmethod
    def of(cls, tools: Iterable[Tool]) -> Toolbox:
        ordered: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in ordered:
                log.warning(
                    "tool %s from %s shadowed by %s",
                    tool.name,
                    tool.source,
                    ordered[tool.name].source,
                )
                continue
            ordered[tool.name] = tool
        return cls(tuple(ordered.values()), ordered)

    def get(self, name: str) -> Tool | None:
        return self.by_name.get(name)

    def offered(self, tier: Tier, approvals: str) -> list[Tool]:
        """Only tools the session could ever run: with approvals off, a tool above the tier can
        never run, so the model never sees it; a tool of an unmapped kind is never offered."""
        out = []
        for tool in self.tools:
            kind = access_kind(tool.kind)
            if kind is None:
                continue
            if approvals == "deny" and not tier.allows(kind.auto_tier):
                continue
            out.append(tool)
        return out

    def definitions(self, tier: Tier, approvals: str) -> list[dict[str, Any]]:
        return [dict(tool.definition) for tool in self.offered(tier, approvals)]

    def only(self, names: frozenset[str] | None) -> Toolbox:
        """The tools named (a command's `allowed-tools` narrows a turn); None keeps all."""
        if names is None:
            return self
        return Toolbox.of(t for t in self.tools if t.name in names)


class ToolCatalog:
    """Every registered tool source; `snapshot()` is taken once per turn."""

    def __init__(self, sources: Sequence[ToolSource] = ()) -> None:
        self._sources: list[ToolSource] = list(sources)

    def add(self, source: ToolSource) -> None:
        self._sources.append(source)

    @property
    def sources(self) -> list[ToolSource]:
        return list(self._sources)

    def snapshot(self, root: Root) -> Toolbox:
        tools: list[Tool] = []
        for source in self._sources:
            try:
                tools.extend(source.tools(root))
            except Exception:  # a broken source loses its tools, never the turn
                log.exception("tool source %s failed to list its tools", source.name)
        return Toolbox.of(tools)
