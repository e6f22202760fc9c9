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
