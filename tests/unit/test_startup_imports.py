"""What `initialize` needs must stay light: the heavy libraries and the agent stack load after
the initialize response (bench/startup.py measures the time; this guards the cause)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("pydantic", "openai", "httpx", "bashlex", "unidiff")
AGENT_STACK = ("claw_lsp.agent", "claw_lsp.tools", "claw_lsp.llm", "claw_lsp.context")


def test_the_server_module_imports_no_heavy_library_and_no_agent_code() -> None:
    probe = (
        "import sys, json; import claw_lsp.server.app; import claw_lsp.cli; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(done.stdout)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    agent = [m for m in loaded if m.startswith(AGENT_STACK)]
    assert heavy == [] and agent == []


INITIALIZE_PROBE = """
import asyncio, json, sys
from lsprotocol import types
from claw_lsp.server.app import create_server

async def main():
    server = create_server(user_file={}, env={})
    initialize = server.protocol.fm.features[types.INITIALIZE]
    initialize(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"claw": {"maxTurns": 4}},
    ))
    during = "pydantic" in sys.modules
    await asyncio.sleep(0.05)  # the response is sent; the service is built after it
    print(json.dumps({"during": during, "maxTurns": server.settings.max_turns,
                      "after": "pydantic" in sys.modules}))

asyncio.run(main())
"""


def test_settings_are_resolved_after_the_initialize_handler_not_in_it() -> None:
    """The options schema (pydantic) loads when settings are first used, after the response."""
    done = subprocess.run(
        [sys.executable, "-c", INITIALIZE_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"during": False, "maxTurns": 4, "after": True}


CLI_PROBE = """
import argparse, json, sys, tempfile
from claw_lsp.headless import build_service

folder = tempfile.mkdtemp()
args = argparse.Namespace(command="ask", prompt="hi", folder=folder, json=True, yes=False)
service, settings = build_service(args, {})
print(json.dumps(sorted(sys.modules)))
"""
# Issue 22: what `claw-lsp ask` does not need before its first model request (no language
# server, MCP server, ACP client or shell command yet); each loads when first used.
CLI_DEFERRED = ("lsprotocol", "pygls", "openai", "bashlex", "mcp", "jedi", "frontmatter")
CLI_DEFERRED_OWN = (
    "claw_lsp.lsp_tools",
    "claw_lsp.acp",
    "claw_lsp.server",
    "claw_lsp.llm.embedded",  # the demo model: only without a configured backend
    "claw_lsp.llm.toolcalls.prompts",  # text mode's tool prompts
)


def test_the_cli_agent_is_built_without_the_libraries_a_plain_prompt_does_not_use(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "CLAW_STATE_DIR": str(tmp_path / "state")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-c", CLI_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "claw_lsp.agent.service" in loaded  # the probe did build the agent
    deferred = [m for m in loaded if m.split(".")[0] in CLI_DEFERRED]
    own = [m for m in loaded if m.startswith(CLI_DEFERRED_OWN)]
    assert deferred == [] and own == []
