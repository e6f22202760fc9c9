"""Rule 8, credentials stay with their origin: every client that sends the API key (the chat
client, the probe, the model listing, the context-window lookup) refuses a redirect to another
port, host or scheme for every redirect status, and follows one within the origin; a key or
password inside the configured URL is shown nowhere. Real HTTP servers on loopback, the real
openai SDK, and the real server for the end-to-end cases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from claw_lsp.context.tokens import ContextStats, fetch_metadata_window
from claw_lsp.llm.base import BackendError, ChatRequest
from claw_lsp.llm.openai_compat import OpenAICompatModel
from claw_lsp.llm.origin import CrossOriginRedirect, fetch_json, same_origin
from claw_lsp.llm.probe import probe_backend
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

KEY = "sk-origin-test-Zq81xW2vB7nM4kR9tY3u"
STATUSES = [301, 302, 303, 307, 308]
ELSEWHERE = ["another port", "another host", "another scheme"]


@pytest.fixture
def targets() -> Iterator[dict[str, ScriptedModel]]:
    """Servers a hostile backend could send the client to; each records whatever reaches it."""
    port = ScriptedModel().start()
    host = ScriptedModel().start(host="127.0.0.2")
    yield {"another port": port, "another host": host}
    port.stop()
    host.stop()


def _elsewhere(where: str, model: ScriptedModel, targets: dict[str, ScriptedModel]) -> str:
    if where == "another scheme":  # same host and port, https: the TLS hello would be counted
        return f"https://127.0.0.1:{model.port}"
    target = targets[where]
    return f"http://{target.host}:{target.port}"


def _nothing_reached(model: ScriptedModel, targets: dict[str, ScriptedModel]) -> None:
    for target in targets.values():
        assert target.seen == [] and target.garbled == 0
    assert model.garbled == 0  # no TLS attempt on the origin's own port either


def _redirect(status: int, location: str) -> dict[str, object]:
    return {"status": status, "headers": {"Location": location}, "body": ""}


def _request() -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": "hi"}], tools=[])


@pytest.mark.parametrize("where", ELSEWHERE)
@pytest.mark.parametrize("status", STATUSES)
async def test_the_chat_client_refuses_a_redirect_to_another_origin(
    status: int, where: str, model: ScriptedModel, targets: dict[str, ScriptedModel]
) -> None:
    location = _elsewhere(where, model, targets) + "/v1/chat/completions"
    model.add(_redirect(status, location))
    backend = OpenAICompatModel(base_url=model.base_url, model="scripted", api_key=KEY)
    try:
        with pytest.raises(BackendError, match="redirected to another origin"):
            await backend.complete(_request(), on_text=lambda _: None)
    finally:
        await backend.close()
    _nothing_reached(model, targets)
    assert len(model.chat_requests()) == 1  # asked once, not retried


@pytest.mark.parametrize("status", STATUSES)
async def test_a_redirect_within_the_origin_is_followed_with_the_key(
    status: int, model: ScriptedModel
) -> None:
    model.add(_redirect(status, f"http://127.0.0.1:{model.port}/moved/v1/chat/completions"))
    model.add({"text": "moved fine"})
    backend = OpenAICompatModel(base_url=model.base_url, model="scripted", api_key=KEY)
    try:
        reply = await backend.complete(_request(), on_text=lambda _: None)
    except BackendError:
        reply = None  # 301/302/303 turn the POST into a GET, which this server answers 404
    finally:
        await backend.close()
    moved = [r for r in model.seen if r["path"].startswith("/moved/")]
    assert len(moved) == 1 and moved[0]["headers"]["authorization"] == f"Bearer {KEY}"
    if status in (307, 308):
        assert reply is not None and reply.text == "moved fine"


@pytest.mark.parametrize("where", ELSEWHERE)
@pytest.mark.parametrize("status", STATUSES)
def test_model_listing_and_metadata_refuse_a_redirect_to_another_origin(
    status: int, where: str, model: ScriptedModel, targets: dict[str, ScriptedModel]
) -> None:
    location = _elsewhere(where, model, targets) + "/v1/models"
    model.models_replies += [_redirect(status, location), _redirect(status, location)]
    with pytest.raises(CrossOriginRedirect):
        fetch_json(model.base_url + "/models", KEY, 5.0, 100_000)
    stats = ContextStats()
    asyncio.run(fetch_metadata_window(stats, model.base_url, "scripted", KEY))
    assert stats.metadata_window is None
    _nothing_reached(model, targets)


@pytest.mark.parametrize("status", STATUSES)
def test_model_listing_follows_a_redirect_within_the_origin(
    status: int, model: ScriptedModel
) -> None:
    model.models_replies.append(_redirect(status, "/elsewhere/v1/models"))
    listing = fetch_json(model.base_url + "/models", KEY, 5.0, 100_000)
    assert listing["data"][0]["id"] == "scripted"
    (moved,) = [r for r in model.seen if r["path"].startswith("/elsewhere/")]
    assert moved["headers"]["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("where", ELSEWHERE)
@pytest.mark.parametrize("status", STATUSES)
async def test_the_probe_refuses_a_redirect_to_another_origin(
    status: int, where: str, model: ScriptedModel, targets: dict[str, ScriptedModel]
) -> None:
    model.models_replies.append(_redirect(status, _elsewhere(where, model, targets) + "/v1/models"))
    report = await probe_backend(base_url=model.base_url, api_key=KEY, model="scripted")
    assert report.error and "redirected to another origin" in report.error
    assert KEY not in json.dumps(report.__dict__, default=str)
    _nothing_reached(model, targets)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://h:80/v1", "http://h/v2", True),
        ("https://h/v1", "https://H:443/x", True),
        ("http://h/v1", "https://h/v1", False),
        ("http://h:8080/v1", "http://h:8081/v1", False),
        ("http://h/v1", "http://h.evil/v1", False),
        ("http://127.0.0.1/v1", "http://localhost/v1", False),
        ("http://[::1]:80/v1", "http://[::1]/x", True),
        ("http://u:p@h/v1", "http://h/v1", True),
    ],
)
def test_an_origin_is_scheme_host_and_port(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same


@pytest.mark.parametrize("status", STATUSES)
async def test_end_to_end_a_redirecting_backend_never_receives_the_key_elsewhere(
    status: int,
    model: ScriptedModel,
    targets: dict[str, ScriptedModel],
    workspace: Path,
    state_dir: Path,
) -> None:
    for where in ELSEWHERE:
        model.add(_redirect(status, _elsewhere(where, model, targets) + "/v1/chat/completions"))
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        results = [await claw.ask(f"try {n}") for n in range(len(ELSEWHERE))]
    finally:
        await claw.client.shutdown_session()
    for result in results:
        assert result["stopReason"] == "error"
        assert "redirected to another origin" in result["text"]
    _nothing_reached(model, targets)
    assert len(model.chat_requests()) == len(ELSEWHERE)


async def test_end_to_end_model_discovery_refuses_a_redirect_to_another_origin(
    model: ScriptedModel, targets: dict[str, ScriptedModel], workspace: Path, state_dir: Path
) -> None:
    target = targets["another port"]
    model.models_replies.append(_redirect(307, f"{target.base_url}/models"))
    env = server_env(model.base_url, state_dir)
    del env["OPENAI_MODEL"]  # the server asks the backend which model it serves
    claw = await start_claw([workspace], env)
    try:
        result = await claw.ask("hi")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "error" and "redirected to another origin" in result["text"]
    _nothing_reached(model, targets)


PASSWORD, URL_KEY = "hunter2-Pass-77", "qk-UrlKey-5566aa"
BASE_URLS = {
    # httpx turns user:pass@ into Basic auth; the SDK keeps the query (the backend then 404s,
    # and the error names the URL: that is the case to check).
    "password in the URL": ("http://claw:{pw}@127.0.0.1:{port}/v1", "done"),
    "key in the query": ("http://127.0.0.1:{port}/v1?key={key}", "error"),
}


@pytest.mark.parametrize(("template", "outcome"), BASE_URLS.values(), ids=list(BASE_URLS))
async def test_end_to_end_credentials_inside_the_base_url_are_shown_nowhere(
    template: str,
    outcome: str,
    model: ScriptedModel,
    workspace: Path,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support import lsp

    base_url = template.format(pw=PASSWORD, key=URL_KEY, port=model.port)
    model.add(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"text": f"the backend is {base_url}"},
    )
    (workspace / "notes.txt").write_text(f"pass={PASSWORD} key {URL_KEY} url {base_url}\n")
    log_file = tmp_path / "server.log"
    monkeypatch.setattr(
        lsp, "SERVER_COMMAND", [*lsp.SERVER_COMMAND, "--debug", "--log-file", str(log_file)]
    )
    claw = await start_claw([workspace], server_env(base_url, state_dir))
    try:
        result = await claw.ask("what is in notes.txt?")
        status = await claw.command("claw.status")
        doctor = await claw.command("claw.doctor")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == outcome, result
    seen = json.dumps(
        [result, status, doctor, claw.recorder.events, claw.recorder.statuses], default=str
    )
    seen += repr(claw.recorder.messages) + repr(claw.recorder.logs) + log_file.read_text()
    for secret in (s for s in (PASSWORD, URL_KEY) if s in base_url):
        assert secret not in seen, secret
        for path in state_dir.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
        assert secret not in json.dumps(model.chat_requests())  # nor in what the model reads
    assert f"127.0.0.1:{model.port}" in json.dumps(status)  # the backend is still named
    assert "[REDACTED]" in json.dumps(status)
