"""What the user reaches directly: MCP prompts as slash commands, `@server:uri` mentions.

`/mcp__<server>__<prompt> args…` fetches the prompt (prompts/get) and runs a model turn with
its messages as the user's words. Arguments: `name=value` words by name, the other words in
the order the prompt declares them (the last one takes the rest of the line); quotes group.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claw_lsp.context.mentions import ResourceReader
from claw_lsp.foundation.events import NullEvents
from claw_lsp.mcp.manager import McpManager
from claw_lsp.mcp.names import exposed_names, one_line
from claw_lsp.mcp.results import render_contents, render_prompt
from claw_lsp.tools.base import ToolError

_TRAILING = ".,;!?)]}'\""


class CommandError(ValueError):
    """A prompt command that cannot run as typed (the message says how to call it)."""


@dataclass(frozen=True)
class PromptCommand:
    name: str  # mcp__<server>__<prompt>, without the slash
    server: str
    prompt: str  # the server's own name for it
    description: str
    arguments: tuple[Mapping[str, Any], ...]

    @property
    def usage(self) -> str:
        words = [
            f"<{a.get('name')}>" if a.get("required") else f"[{a.get('name')}]"
            for a in self.arguments
        ]
        return " ".join([f"/{self.name}", *words])

    def parse(self, text: str) -> dict[str, str]:
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise CommandError(f"/{self.name}: {exc}; usage: {self.usage}") from None
        declared = [str(a.get("name")) for a in self.arguments]
        values: dict[str, str] = {}
        positional = []
        for word in words:
            key, sep, value = word.partition("=")
            if sep and key in declared:
                values[key] = value
            else:
                positional.append(word)
        free = [name for name in declared if name not in values]
        for index, name in enumerate(free):
            if index >= len(positional):
                break
            last = index == len(free) - 1
            values[name] = " ".join(positional[index:]) if last else positional[index]
        if len(positional) > len(free) and not free:
            raise CommandError(f"/{self.name} takes no more arguments; usage: {self.usage}")
        missing = [str(a.get("name")) for a in self.arguments if a.get("required")]
        missing = [name for name in missing if name not in values]
        if missing:
            raise CommandError(f"/{self.name} needs {', '.join(missing)}; usage: {self.usage}")
        return values


def prompt_commands(manager: McpManager) -> list[PromptCommand]:
    """The live servers' prompts, by command name."""
    out = []
    for server, slot in sorted(manager.slots.items()):
        if not slot.ready or slot.connection is None:
            continue
        prompts = {str(p.get("name")): p for p in slot.connection.listing.prompts}
        for prompt, command in exposed_names(server, prompts).items():
            raw = prompts[prompt]
            arguments = tuple(a for a in raw.get("arguments") or [] if isinstance(a, Mapping))
            description = one_line(raw.get("description") or raw.get("title") or prompt)
            out.append(PromptCommand(command, server, prompt, description, arguments))
    return sorted(out, key=lambda c: c.name)


class McpPromptCommands:
    """The agent's source of `/mcp__<server>__<prompt>` commands (agent/slash.py)."""

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    async def commands(self) -> Sequence[tuple[str, str]]:
        await self.manager.ensure()
        return [(c.usage, c.description) for c in prompt_commands(self.manager)]

    async def expand(self, name: str, args: str) -> str | None:
        """The prompt's text for a model turn; None when `name` is not an MCP prompt."""
        if not name.startswith("mcp__"):
            return None
        await self.manager.ensure()
        by_name = {c.name.lower(): c for c in prompt_commands(self.manager)}
        command = by_name.get(name.lower())
        if command is None:
            return None
        values = command.parse(args)
        try:
            result = await self.manager.get_prompt(
                command.server, command.prompt, values, NullEvents()
            )
        except ToolError as exc:
            raise CommandError(f"/{command.name}: {exc}") from None
        text = render_prompt(result)
        if not text.strip():
            raise CommandError(f"/{command.name}: the server returned an empty prompt")
        return text


def resource_readers(manager: McpManager) -> dict[str, ResourceReader]:
    """`@server:uri` readers for the configured servers (context/mentions.py): the server
    starts if it is not running; a failure leaves the mention as text, with the reason."""

    async def read(server: str, uri: str) -> str:
        slots = await manager.ensure([server])
        if not slots or not slots[0].ready:
            why = slots[0].last_error if slots else "not configured"
            raise ToolError(f"the server is not running: {why}")
        result = await manager.read_resource(server, uri.rstrip(_TRAILING), NullEvents())
        return render_contents(result.get("contents") or [])

    return {name: functools.partial(read, name) for name in manager.configured_names()}
