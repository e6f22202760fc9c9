"""Rule 5 end to end: a hostile repository whose secrets are found by content, not by name (a
token inside `.git/config`'s remote URL, an OpenSSH key in `ops/deploy_key`, AWS keys in
`settings.ini`, the configured API key cut in halves, reversed and base64-encoded in a file),
read through read_file, grep and the shell (`git remote -v`, two greps for two halves), reach
neither the model, nor the editor, nor the session files, nor the log."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from tests.security.test_secrets_redaction import TOKENS, _pem
from tests.support import lsp
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

API_KEY = "sk-test-SECRET-0123456789"  # what server_env configures
GITHUB_TOKEN = TOKENS["github classic"]
AWS_KEY_ID = TOKENS["aws access key"]
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9988"
DEPLOY_KEY, DEPLOY_KEY_BODY = _pem("OPENSSH PRIVATE KEY", openssh=True)
HALF = len(API_KEY) // 2


@pytest.fixture
def hostile_repo(workspace: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    remote = f"https://{GITHUB_TOKEN}@github.com/victim/app.git"
    subprocess.run(["git", "-C", str(workspace), "remote", "add", "origin", remote], check=True)
    (workspace / "ops").mkdir()
    (workspace / "ops" / "deploy_key").write_text(DEPLOY_KEY + "\n")
    (workspace / "settings.ini").write_text(
        f"[aws]\naccess_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"
    )
    encoded = base64.b64encode(f"KEY={API_KEY}".encode()).decode()
    (workspace / "notes.txt").write_text(
        f"first {API_KEY[:HALF]}\nsecond {API_KEY[HALF:]}\nbackwards {API_KEY[::-1]}\n"
        f"packed {encoded}\n"
    )
    return workspace


def _call(name: str, **arguments: object) -> dict[str, object]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


SECRETS = {
    "github token": GITHUB_TOKEN[4:],
    "aws key id": AWS_KEY_ID,
    "aws secret": AWS_SECRET,
    "api key first half": API_KEY[:HALF],
    "api key second half": API_KEY[HALF:],
    "api key reversed": API_KEY[::-1][:HALF],
    **{f"deploy key line {n}": line[4:20] for n, line in enumerate(DEPLOY_KEY_BODY)},
}


async def test_secrets_found_by_content_reach_no_model_editor_file_or_log(
    model: ScriptedModel,
    hostile_repo: Path,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_file = tmp_path / "server.log"
    monkeypatch.setattr(
        lsp, "SERVER_COMMAND", [*lsp.SERVER_COMMAND, "--debug", "--log-file", str(log_file)]
    )
    model.add(
        _call("read_file", path="ops/deploy_key"),
        _call("read_file", path="settings.ini"),
        _call("read_file", path="notes.txt"),
        _call("grep", pattern="ghp_|AKIA|PRIVATE|b3Blbn", path="."),
        _call("grep", pattern="^first", path="notes.txt"),
        _call("grep", pattern="^second", path="notes.txt"),
        _call("shell", command="git remote -v"),
        _call("shell", command="cat .git/config ops/deploy_key"),
        _call("shell", command="grep -o 'first .*' notes.txt; grep -o 'second .*' notes.txt"),
        _call(
            "shell", command='rev notes.txt; base64 -d <<< "$(grep packed notes.txt | cut -c8-)"'
        ),
        {"text": "I looked everywhere."},
    )
    claw = await start_claw(
        [hostile_repo], server_env(model.base_url, state_dir), init_options={"tier": "shell"}
    )
    claw.recorder.approval_answers += ["Allow once"] * 8
    try:
        result = await claw.ask("find the credentials in this repository")
        status = await claw.command("claw.status")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    tool_results = [
        m["content"] for r in model.chat_requests() for m in r["messages"] if m["role"] == "tool"
    ]
    assert len(tool_results) >= 10 and "[REDACTED]" in json.dumps(tool_results)
    assert "origin" in json.dumps(tool_results)  # what is not secret still reaches the model
    channels = {
        "model": json.dumps(model.chat_requests()),
        "editor": json.dumps(
            [result, status, claw.recorder.events, claw.recorder.statuses], default=str
        )
        + repr(claw.recorder.messages)
        + repr(claw.recorder.logs)
        + repr(claw.recorder.approvals),
        "log": log_file.read_text(),
        "session files": "".join(
            p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file()
        ),
    }
    for channel, text in channels.items():
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} reached the {channel}"
