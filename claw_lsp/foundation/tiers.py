"""Permission tiers, ordered from least to most trusted."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    READ_ONLY = "read-only"
    WRITE = "write"
    SHELL = "shell"
    UNSAFE = "unsafe"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def allows(self, needed: Tier) -> bool:
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str) -> Tier:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown tier {value!r}; expected one of {names}") from None


_ORDER = [Tier.READ_ONLY, Tier.WRITE, Tier.SHELL, Tier.UNSAFE]

TIER_DESCRIPTIONS: dict[Tier, str] = {
    Tier.READ_ONLY: "list, read, glob and grep files in the workspace; nothing is changed",
    Tier.WRITE: "also create and edit files in the workspace folders (protected paths still ask)",
    Tier.SHELL: "also run shell commands, inside the sandbox when available",
    Tier.UNSAFE: "no vetting at all: every tool runs without asking (expires with the session)",
}
