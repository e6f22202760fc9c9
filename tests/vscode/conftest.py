"""Fixtures of the VS Code end-to-end tests: one code-server session for the whole package (the
classic and the chat-input tests read the same run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.vscode.harness import (
    EXTENSION_DIR,
    FIXTURE_EXTENSION,
    SCENARIOS,
    SERVER_EXECUTABLE,
    _code_server_session,
    _require_dependencies,
    _run,
)


@pytest.fixture(scope="session")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_dependencies()
    out = tmp_path_factory.mktemp("vsix") / "claw-lsp.vsix"
    _run(["npm", "run", "build"], EXTENSION_DIR, timeout=120)
    _run(
        [str(EXTENSION_DIR / "node_modules" / ".bin" / "vsce"), "package", "--out", str(out)],
        EXTENSION_DIR,
        timeout=120,
    )
    # The fixture language extension (issue 16) is installed beside ours.
    vsce = str(EXTENSION_DIR / "node_modules" / ".bin" / "vsce")
    _run([vsce, "package", "--out", str(out.with_name("fixture.vsix"))], FIXTURE_EXTENSION, 120)
    return out


@pytest.fixture(scope="session")
def vscode_run(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert SERVER_EXECUTABLE.exists(), f"{SERVER_EXECUTABLE} is missing (pip install -e .)"
    settings = {
        "claw.server.path": str(SERVER_EXECUTABLE),
        "claw.tier": "write",
        "claw.requestTimeout": 30,
    }
    return _code_server_session(
        vsix, tmp_path_factory.mktemp("code-server"), settings, {"scenarios": SCENARIOS}
    )


@pytest.fixture(scope="session")
def missing_server_run(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = {"claw.server.path": "/nonexistent/claw-lsp"}
    return _code_server_session(
        vsix, tmp_path_factory.mktemp("code-server-missing"), settings, {"mode": "missingServer"}
    )
