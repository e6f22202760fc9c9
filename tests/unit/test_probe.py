"""The backend probe against a real loopback HTTP server (tests/support/scripted_model.py)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from claw_lsp.llm.probe import PROBE_TOOL_NAME, ProbeCache, format_report, probe_backend
from tests.support.scripted_model import ScriptedModel

API_KEY = "sk-probe-test-0123456789abcdef"
WEATHER_CALL = {"name": PROBE_TOOL_NAME, "arguments": {"city": "Paris"}}
TEXT_CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'


@pytest.fixture
def scripted() -> Iterator[ScriptedModel]:
    server = ScriptedModel(model="scripted").start()
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_structured_tool_call_and_streamed_deltas(scripted: ScriptedModel) -> None:
    usage = {"prompt_tokens": 60, "completion_tokens": 9}
    scripted.add({"tool_calls": [WEATHER_CALL], "usage": usage}, {"tool_calls": [WEATHER_CALL]})

    report = await probe_backend(base_url=scripted.base_url, api_key=API_KEY, model="scripted")

    assert report.reachable and report.error is None
    assert report.models == ["scripted"] and report.model_listed is True
    assert report.tool_calls == "structured"
    assert report.streaming_tool_deltas is True
    auto, streamed = scripted.chat_requests()
    assert auto["tool_choice"] == "auto" and not auto.get("stream")
    assert [tool["function"]["name"] for tool in auto["tools"]] == [PROBE_TOOL_NAME]
    assert streamed["stream"] is True and streamed["messages"] == auto["messages"]
    assert scripted.headers[0]["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in format_report(report)


async def test_text_tool_calls_are_detected(scripted: ScriptedModel) -> None:
    scripted.add({"text": TEXT_CALL}, {"text": TEXT_CALL})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.tool_calls == "text"
    assert report.streaming_tool_deltas is None  # no structured calls to stream
    assert any("as text" in warning for warning in report.warnings)
    assert len(scripted.chat_requests()) == 2  # no forced retry once a text call was found


async def test_forced_tool_choice_is_tried_when_auto_gives_plain_text(
    scripted: ScriptedModel,
) -> None:
    scripted.add({"text": "It is sunny."}, {"tool_calls": [WEATHER_CALL]})
    scripted.add({"tool_calls": [WEATHER_CALL]})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.tool_calls == "structured"
    assert any("only when forced" in warning for warning in report.warnings)
    forced = scripted.chat_requests()[1]
    assert forced["tool_choice"] == {"type": "function", "function": {"name": PROBE_TOOL_NAME}}


async def test_no_tool_call_at_all(scripted: ScriptedModel) -> None:
    scripted.add({"text": "It is sunny."}, {"text": "Still sunny."})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.tool_calls == "none"
    assert any("cannot use tools" in warning for warning in report.warnings)


async def test_tool_calls_lost_when_streaming_are_reported(scripted: ScriptedModel) -> None:
    # Ollama's known fault: structured calls without streaming, empty text with it.
    scripted.add({"tool_calls": [WEATHER_CALL]}, {"text": ""}, {"text": ""})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.tool_calls == "structured"
    assert report.streaming_tool_deltas is False
    assert any("vanish when streaming" in warning for warning in report.warnings)
    forced_stream = scripted.chat_requests()[2]
    assert forced_stream["stream"] is True and forced_stream["tool_choice"]["type"] == "function"


async def test_tool_deltas_streamed_only_when_forced(scripted: ScriptedModel) -> None:
    # llama-cpp-python: "Automatic streaming tool choice is not supported".
    scripted.add({"tool_calls": [WEATHER_CALL]}, {"text": ""}, {"tool_calls": [WEATHER_CALL]})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.streaming_tool_deltas is True
    assert any("only when tool_choice names the tool" in w for w in report.warnings)


async def test_401_says_check_the_key_and_never_echoes_it(scripted: ScriptedModel) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {API_KEY}", "code": "invalid"}}
    scripted.add({"status": 401, "body": body})

    report = await probe_backend(base_url=scripted.base_url, api_key=API_KEY, model="scripted")

    assert report.reachable
    assert report.tool_calls == "error"
    assert report.error is not None and "check the API key" in report.error
    text = format_report(report)
    assert "check the API key" in text
    assert API_KEY not in text and API_KEY not in repr(report.to_dict())
    assert len(scripted.chat_requests()) == 1  # a bad key is not retried with other requests


async def test_server_error_on_chat_is_reported_not_raised(scripted: ScriptedModel) -> None:
    scripted.add({"status": 500, "body": "<html>boom</html>"})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.reachable and report.error is None
    assert report.tool_calls == "error"
    assert any("HTTP 500" in warning for warning in report.warnings)


async def test_down_port_is_not_reachable() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"

    report = await probe_backend(base_url=url, api_key=API_KEY, model="any", timeout_s=5)

    assert report.reachable is False
    assert report.error is not None and f"not reachable at {url}" in report.error
    assert report.tool_calls == "skipped" and report.models == []
    assert "reachable: no" in format_report(report)


async def test_ollama_models_payload_warns_about_num_ctx(scripted: ScriptedModel) -> None:
    scripted.models_payload = {
        "object": "list",
        "data": [
            {"id": "qwen2.5-coder:7b", "object": "model", "created": 1, "owned_by": "library"},
            {"id": "llama3.2:latest", "object": "model", "created": 1, "owned_by": "library"},
        ],
    }

    report = await probe_backend(
        base_url=scripted.base_url, api_key=None, model="llama3.2", round_trip=False
    )

    assert report.backend_kind == "ollama"
    assert report.model_listed is True  # Ollama resolves "llama3.2" to "llama3.2:latest"
    assert report.tool_calls == "skipped" and scripted.chat_requests() == []
    num_ctx_warnings = [w for w in report.warnings if "num_ctx" in w]
    assert num_ctx_warnings and "OLLAMA_CONTEXT_LENGTH" in num_ctx_warnings[0]
    assert "num_ctx" in format_report(report)


async def test_vllm_context_window_and_unlisted_model(scripted: ScriptedModel) -> None:
    scripted.models_payload = {
        "object": "list",
        "data": [{"id": "Qwen/Qwen3-8B", "owned_by": "vllm", "max_model_len": 32768}],
    }

    listed = await probe_backend(
        base_url=scripted.base_url, api_key=None, model="Qwen/Qwen3-8B", round_trip=False
    )
    unlisted = await probe_backend(
        base_url=scripted.base_url, api_key=None, model="qwen3", round_trip=False
    )

    assert listed.backend_kind == "vllm"
    assert (listed.context_window, listed.context_source) == (
        32768,
        "max_model_len from /v1/models",
    )
    assert "vLLM" in listed.prefix_cache
    assert unlisted.model_listed is False
    assert any("'qwen3' is not listed" in w and "Qwen/Qwen3-8B" in w for w in unlisted.warnings)


async def test_cached_tokens_reported_by_the_repeated_request(scripted: ScriptedModel) -> None:
    details = {"cached_tokens": 64}
    usage = {"prompt_tokens": 80, "completion_tokens": 5, "prompt_tokens_details": details}
    scripted.add({"tool_calls": [WEATHER_CALL]}, {"tool_calls": [WEATHER_CALL], "usage": usage})

    report = await probe_backend(base_url=scripted.base_url, api_key=None, model="scripted")

    assert report.prefix_cache.startswith("hit observed: 64")
    assert scripted.chat_requests()[1]["stream_options"] == {"include_usage": True}


async def test_cache_probes_once_for_concurrent_and_later_callers(
    scripted: ScriptedModel,
) -> None:
    scripted.add({"tool_calls": [WEATHER_CALL]}, {"tool_calls": [WEATHER_CALL]})
    cache = ProbeCache(timeout_s=5)

    first, second = await asyncio.gather(
        cache.get(scripted.base_url, API_KEY, "scripted"),
        cache.get(scripted.base_url + "/", API_KEY, "scripted"),
    )
    later = await cache.get(scripted.base_url, API_KEY, "scripted")

    assert first is second is later
    assert first.tool_calls == "structured"
    assert len(scripted.chat_requests()) == 2  # one probe: the auto call and the streamed one
    assert cache.peek(scripted.base_url, API_KEY, "scripted") is first
    assert cache.peek(scripted.base_url, API_KEY, "other-model") is None


async def test_to_dict_is_plain_data(scripted: ScriptedModel) -> None:
    report = await probe_backend(
        base_url=scripted.base_url, api_key=None, model="scripted", round_trip=False
    )

    data = report.to_dict()

    assert data["reachable"] is True and data["tool_calls"] == "skipped"
    assert set(data) >= {"base_url", "model", "backend_kind", "context_window", "warnings"}


class _NotFoundEverywhere(BaseHTTPRequestHandler):
    """A web server that is not an OpenAI API at all (a wrong base URL)."""

    def log_message(self, *args: object) -> None:
        pass

    def _not_found(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _not_found


async def test_wrong_base_url_gets_a_hint() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFoundEverywhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        report = await probe_backend(base_url=url, api_key=None, model="m")
    finally:
        server.shutdown()
        server.server_close()

    assert report.reachable and report.tool_calls == "error"
    assert report.error is not None and "check the base URL" in report.error
