"""`claw-lsp acp`: build the service on the ACP ports and serve the SDK's agent connection on
stdio until the client closes it; then stop what the agent started."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, cast

from claw_lsp.config import ConfigError, options_from_env, read_user_config, resolve_settings

log = logging.getLogger(__name__)


def run(args: Any) -> int:
    try:
        settings = resolve_settings(user_file=read_user_config(), env=options_from_env())
    except ConfigError as exc:
        # Before any protocol traffic: stderr is the editor's log for the agent process.
        print(f"claw-lsp acp: configuration error: {exc}", file=sys.stderr)
        return 1
    return asyncio.run(serve(settings))


async def serve(settings: Any) -> int:
    from acp import Agent
    from acp.agent.connection import AgentSideConnection
    from acp.task import TaskSupervisor

    from claw_lsp.acp.agent import ClawAcpAgent
    from claw_lsp.acp.egress import stdio_transport
    from claw_lsp.acp.options import SessionOptions
    from claw_lsp.acp.ports import AcpApprover, AcpEditor, Peer
    from claw_lsp.acp.reads import AcpAgentService
    from claw_lsp.llm.provider import ModelProvider
    from claw_lsp.permissions.paths import Workspace
    from claw_lsp.sessions.store import SessionStore

    peer = Peer()
    options = SessionOptions(settings)
    workspace = Workspace(protected_real_dirs=(settings.state_dir.resolve(),))
    editor = AcpEditor(peer)
    agents: list[ClawAcpAgent] = []
    service = AcpAgentService(
        peer=peer,
        settings=options.settings,
        workspace=workspace,
        editor=editor,
        approver=AcpApprover(peer),
        events=lambda session, turn: agents[0].events_for(session, turn),
        store=SessionStore(settings.state_dir, on_warning=lambda m: log.warning("%s", m)),
        models=ModelProvider(),
        language=_language_hub(options, workspace, editor),
    )
    agent = ClawAcpAgent(service, peer, options)
    agents.append(agent)
    supervisor = TaskSupervisor(source="claw.acp.stdio")
    # As the SDK's run_agent, with every outgoing frame through claw's redaction (egress.py).
    # ClawAcpAgent implements the stable methods; the SDK routes the unstable ones (fork,
    # resume, close) only with use_unstable_protocol, which claw does not ask for.
    try:
        transport = await stdio_transport(supervisor)
    except (OSError, ValueError) as exc:
        # A file or /dev/null instead of pipes: this is started by an editor, not by hand.
        print(
            f"claw-lsp acp: stdin and stdout must be pipes from an ACP client ({exc})",
            file=sys.stderr,
        )
        await service.models.close()
        return 2
    conn = AgentSideConnection(cast(Agent, agent), transport, listening=False)
    try:
        await conn.listen()
    finally:
        await asyncio.shield(conn.close())
        service.cancel()
        await peer.outbox.aclose()
        await service.aclose()  # MCP servers stop with the agent
        await service.models.close()
        if service.language is not None:
            await service.language.close()
    return 0


def _language_hub(options: Any, workspace: Any, editor: Any) -> Any:
    """Language servers claw runs itself (languageServers), as the CLI does."""
    if not options.base.language_servers:
        return None
    from claw_lsp.lsp_tools.hub import LanguageHub

    return LanguageHub(settings=options.settings, workspace=workspace, editor=editor)
