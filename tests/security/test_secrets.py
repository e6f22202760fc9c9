"""SE rows: secrets do not flow by default (child env, credential files, the API key)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from tests.security.conftest import Harness
from tests.support import lsp
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

HOST_SECRETS = {
    "OPENAI_API_KEY": "sk-host-openai-0000000000",
    "CLAW_API_KEY": "claw-host-key-111111",
    "AWS_SECRET_ACCESS_KEY": "aws-host-secret-222222",
    "GITHUB_TOKEN": "ghp_host_token_333333",
    "MY_PASSWORD": "hunter2-host-444444",
    "DB_CREDENTIALS": "db-host-creds-555555",
    "SSH_AUTH_SOCK": "/run/host-agent.sock",
    "GIT_ASKPASS": "/usr/bin/host-askpass",
}


@pytest.mark.usefixtures("no_orphans")
async def test_se01_child_env_is_an_allowlist_plus_safe_passthrough(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in HOST_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MY_TOOL_HOME", "/opt/tool")
    monkeypatch.setenv("UNLISTED_VAR", "not-passed")
    harness = Harness(
        [ws],
        state_dir=tmp_path / "state",
        tier=Tier.SHELL,
        env_passthrough=("MY_TOOL_HOME", "MY_PASSWORD", "*TOKEN*"),
    )
    result = await harness.call("shell", {"command": "env"}, "once")
    assert "PATH=" in result.content and "MY_TOOL_HOME=/opt/tool" in result.content
    for name, value in HOST_SECRETS.items():
        assert value not in result.content and f"{name}=" not in result.content, name
    assert "UNLISTED_VAR" not in result.content
    assert "GIT_TERMINAL_PROMPT=0" in result.content  # credential prompts neutralised


SECRET_FILES = {
    ".env": "OPENAI_API_KEY=sk-proj-ENVFILE-abcdef123456\n",
    ".env.local": "SECRET_VALUE=envlocal-zz-998877\n",
    "certs/server.pem": "-----BEGIN PRIVATE KEY-----\nPEMSECRET998877\n",
    "keys/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nRSASECRET998877\n",
    ".aws/credentials": "aws_secret_access_key=AWSSECRET998877\n",
    ".aws/config": "[default]\nregion=AWSCONFIG998877\n",
    ".git-credentials": "https://user:GITCRED998877@github.com\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=NPMSECRET998877\n",
    ".netrc": "machine x login u password NETRC998877\n",
}


@pytest.fixture
def secret_ws(ws: Path) -> Path:
    for rel, text in SECRET_FILES.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    return ws


async def test_se02_credential_files_are_denied_by_default_across_read_grep_glob_list(
    secret_ws: Path, tmp_path: Path
) -> None:
    harness = Harness([secret_ws], state_dir=tmp_path / "state", tier=Tier.WRITE)
    for rel in SECRET_FILES:
        read = await harness.call("read_file", {"path": rel}, "deny")
        assert not read.ok and "998877" not in read.content and "ENVFILE" not in read.content
        grep_one = await harness.call("grep", {"pattern": ".", "path": rel}, "deny")
        assert not grep_one.ok, rel
    assert len(harness.approver.requests) == 2 * len(SECRET_FILES)
    assert all("credentials" in r.reason for r in harness.approver.requests)
    grep = await harness.call("grep", {"pattern": "998877|ENVFILE"})
    assert grep.ok and "(no matches)" in grep.content
    glob = await harness.call("glob", {"pattern": "**/*"})
    for rel in SECRET_FILES:
        assert rel not in glob.content.splitlines(), rel
    for directory in (".", "keys", "certs"):
        listing = await harness.call("list_dir", {"path": directory})
        assert all(Path(rel).name not in listing.content for rel in SECRET_FILES)
    aws = await harness.call("list_dir", {"path": ".aws"}, "deny")
    assert not aws.ok


async def test_se02_only_user_level_rules_open_a_credential_file(
    secret_ws: Path, tmp_path: Path
) -> None:
    harness = Harness(
        [secret_ws],
        state_dir=tmp_path / "state",
        permissions={"allow": ["Read(.env.local)"]},
    )
    allowed = await harness.call("read_file", {"path": ".env.local"})
    assert allowed.ok and not harness.approver.requests
    still = await harness.call("read_file", {"path": ".env"}, "deny")
    assert not still.ok


async def test_se06_approved_secret_reads_warn_and_redact(secret_ws: Path, tmp_path: Path) -> None:
    harness = Harness([secret_ws], state_dir=tmp_path / "state", tier=Tier.SHELL)
    read = await harness.call("read_file", {"path": ".env"}, "once")
    assert read.ok and "sk-proj-ENVFILE-abcdef123456" not in read.content
    assert "OPENAI_API_KEY=" in read.content and "[REDACTED]" in read.content
    shell = await harness.call("shell", {"command": "cat .env"}, "once")
    assert "sk-proj-ENVFILE-abcdef123456" not in shell.content
    notices = harness.events.notices()
    assert len(notices) == 2 and all("secrets" in n for n in notices)
    assert all("ENVFILE" not in n for n in notices)
    harmless = await harness.call("read_file", {"path": "app.py"})
    assert harmless.ok and len(harness.events.notices()) == 2


async def test_se03_the_api_key_is_nowhere_even_with_debug_logging(
    model: ScriptedModel,
    workspace: Path,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-test-SECRET-0123456789"
    log_file = tmp_path / "server.log"
    monkeypatch.setattr(
        lsp, "SERVER_COMMAND", [*lsp.SERVER_COMMAND, "--debug", "--log-file", str(log_file)]
    )
    (workspace / "notes.txt").write_text(f"the key is {key}\nAuthorization: Bearer {key}\n")
    model.add(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}]},
        {"text": f"I found the key {key} in notes"},
        {"status": 401, "body": {"error": {"message": f"Incorrect API key provided: {key}"}}},
    )
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        first = await claw.ask("what is in notes.txt?")
        second = await claw.ask("again")
        status = await claw.command("claw.status")
        sessions = await claw.command("claw.sessions")
    finally:
        await claw.client.shutdown_session()
    assert model.headers[0]["authorization"] == f"Bearer {key}"  # the real backend gets it
    tool_messages = [
        m for r in model.chat_requests() for m in r["messages"] if m["role"] in ("tool", "user")
    ]
    assert tool_messages and key not in json.dumps(tool_messages)  # tool results are redacted
    visible = json.dumps(
        [first, second, status, sessions, claw.recorder.events, claw.recorder.statuses],
        default=str,
    )
    visible += repr(claw.recorder.messages) + repr(claw.recorder.logs)
    assert key not in visible
    assert "401" in visible or "API key" in visible  # the failure itself is reported
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert log_file.exists() and key not in log_file.read_text()


def test_se08_state_files_are_private_and_no_temp_files_are_left(tmp_path: Path) -> None:
    from claw_lsp.permissions.confined_write import write_confined
    from claw_lsp.sessions.store import SessionStore

    store = SessionStore(tmp_path / "state")
    uri = (tmp_path / "ws").as_uri()
    session = store.create(uri, title="x")
    store.append(uri, session, [{"type": "message", "turn": 1, "message": {"role": "user"}}])
    for path in (tmp_path / "state").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    target = tmp_path / "ws" / "f.txt"
    write_confined(target, b"data")
    write_confined(target, b"data2")
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]
    with pytest.raises(OSError):
        write_confined(tmp_path / "ws", b"x")
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


@pytest.mark.usefixtures("no_orphans")
async def test_se08_children_cannot_dump_core(harness: Harness) -> None:
    harness.set(tier=Tier.SHELL)
    result = await harness.call("shell", {"command": "ulimit -c"}, "once")
    assert result.content.rstrip().endswith("\n0")
