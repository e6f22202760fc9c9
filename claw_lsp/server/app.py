"""The composition root: builds the language server and registers every feature module."""

from __future__ import annotations

from typing import Any

from claw_lsp.server import code_actions, commands, language, lifecycle
from claw_lsp.server.state import ClawServer


def create_server(
    *, user_file: dict[str, Any], env: dict[str, Any], debug: bool = False
) -> ClawServer:
    server = ClawServer(user_file=user_file, env=env, debug=debug)
    lifecycle.register(server)
    commands.register(server)
    code_actions.register(server)
    language.register(server)
    return server
