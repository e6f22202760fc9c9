"""What `initialize` needs must stay light: the heavy libraries and the agent stack load after
the initialize response (bench/startup.py measures the time; this guards the cause)."""

from __future__ import annotations

import json
import subprocess
import sys

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
