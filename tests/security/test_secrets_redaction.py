"""Rule 5, secrets by content: every token shape in every context, private key blocks in every
form a tool shows them, credentials inside URLs, and the configured key in every split and
encoding redaction promises to catch (docs/security.md, "What redaction catches"). The tokens are
generated here (never real ones), so no scanner mistakes this file for a leak."""

from __future__ import annotations

import base64
import codecs
import json
import random
import string
from urllib.parse import quote

import pytest

from claw_lsp.foundation.secrets import (
    FRAGMENT_GUARANTEED,
    REDACTED,
    display_url,
    redact,
    redact_message,
    register_secret,
    register_url_credentials,
    split_streamed,
)

_rng = random.Random(13)
ALNUM = string.ascii_letters + string.digits


def _chars(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


TOKENS = {
    "github classic": "ghp_" + _chars(36),
    "github oauth": "gho_" + _chars(36),
    "github user-to-server": "ghu_" + _chars(36),
    "github server-to-server": "ghs_" + _chars(36),
    "github refresh": "ghr_" + _chars(36),
    "github fine-grained": "github_pat_" + _chars(22) + "_" + _chars(59),
    "gitlab personal": "glpat-" + _chars(20),
    "gitlab deploy": "gldt-" + _chars(20),
    "gitlab runner": "glrt-" + _chars(20),
    "aws access key": "AKIA" + _chars(16, string.ascii_uppercase + string.digits),
    "aws temporary key": "ASIA" + _chars(16, string.ascii_uppercase + string.digits),
    "slack bot": "xoxb-" + _chars(12, string.digits) + "-" + _chars(24),
    "slack user": "xoxp-" + _chars(12, string.digits) + "-" + _chars(24),
    "slack app": "xapp-1-" + _chars(11) + "-" + _chars(30),
    "openai": "sk-" + _chars(48),
    "openai project": "sk-proj-" + _chars(40) + "_" + _chars(20),
    "anthropic": "sk-ant-api03-" + _chars(60, ALNUM + "-_"),
    "stripe secret": "sk_live_" + _chars(24),
    "stripe restricted": "rk_live_" + _chars(24),
    "google api": "AIza" + _chars(35, ALNUM + "-_"),
    "google oauth": "ya29." + _chars(60, ALNUM + "-_"),
    "npm": "npm_" + _chars(36),
    "pypi": "pypi-AgEIcHlwaS5vcmc" + _chars(60, ALNUM + "-_"),
    "hugging face": "hf_" + _chars(34),
    "sendgrid": "SG." + _chars(22, ALNUM + "-_") + "." + _chars(43, ALNUM + "-_"),
    "digitalocean": "dop_v1_" + _chars(64, "0123456789abcdef"),
    "shopify": "shpat_" + _chars(32, "0123456789abcdef"),
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + _chars(43, ALNUM + "-_"),
}
# Where a tool result shows a token: a line of a file, a grep row, a read_file row, JSON, a
# URL, `git remote -v`, an environment dump, YAML, code.
CONTEXTS = {
    "prose": "the value is {t} and more text",
    "env line": "DEPLOY={t}\n",
    "json": '{{"value": "{t}", "n": 1}}',
    "yaml": "deploy:\n  value: {t}\n",
    "grep row": "settings.ini:3:value = {t}",
    "read_file row": "     3\t{t}",
    "url user": "https://{t}@github.com/o/r.git",
    "git remote -v": "origin\thttps://x-access-token:{t}@github.com/o/r (fetch)",
    "shell export": "export VALUE='{t}'",
    "code": 'client = Client("{t}")',
}


def _leaks(output: str, secret: str, size: int = 12) -> bool:
    """Any `size`-character piece of `secret` (past its well-known prefix) still visible."""
    body = secret[min(8, len(secret) // 3) :]
    return any(body[i : i + size] in output for i in range(0, max(1, len(body) - size + 1)))


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=list(CONTEXTS))
@pytest.mark.parametrize("token", TOKENS.values(), ids=list(TOKENS))
def test_every_token_shape_is_masked_in_every_context(token: str, context: str) -> None:
    text = context.format(t=token)
    out = redact(text)
    assert not _leaks(out, token), out
    assert REDACTED in out
    # What surrounds the token is still there for the model to work with.
    for word in ("github.com", "settings.ini:3:", "origin", "DEPLOY=", "Client("):
        if word in text:
            assert word in out


def _pem(label: str, lines: int = 6, openssh: bool = False) -> tuple[str, list[str]]:
    body = [_chars(64, ALNUM + "+/") for _ in range(lines)] + [_chars(20, ALNUM + "+/") + "=="]
    if openssh:
        body[0] = "b3BlbnNzaC1rZXktdjEAAAAA" + body[0][24:]
    headers = ["Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,0123456789ABCDEF", ""]
    block = [f"-----BEGIN {label}-----", *(headers if label == "RSA PRIVATE KEY" else []), *body]
    return "\n".join([*block, f"-----END {label}-----"]), body


KEY_LABELS = [
    ("OPENSSH PRIVATE KEY", True),
    ("RSA PRIVATE KEY", False),
    ("EC PRIVATE KEY", False),
    ("DSA PRIVATE KEY", False),
    ("PRIVATE KEY", False),
    ("ENCRYPTED PRIVATE KEY", False),
    ("PGP PRIVATE KEY BLOCK", False),
]


def _shown_as(form: str, block: str) -> str:
    lines = block.split("\n")
    if form == "file":
        return "before\n" + block + "\nafter"
    if form == "read_file":
        return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(["x = 1", *lines], 1))
    if form == "grep rows":
        return "\n".join(f"ops/deploy_key:{n}:{line}" for n, line in enumerate(lines, 1))
    if form == "json string":
        return json.dumps({"type": "service_account", "private_key": block + "\n"})
    if form == "diff":
        return "\n".join(["--- /dev/null", "+++ b/ops/key", *(f"+{line}" for line in lines)])
    if form == "truncated":
        return "\n".join(lines[: len(lines) // 2])
    raise AssertionError(form)


@pytest.mark.parametrize(
    "form", ["file", "read_file", "grep rows", "json string", "diff", "truncated"]
)
@pytest.mark.parametrize(("label", "openssh"), KEY_LABELS, ids=[k for k, _ in KEY_LABELS])
def test_private_key_blocks_are_masked_whole_however_a_tool_shows_them(
    label: str, openssh: bool, form: str
) -> None:
    block, body = _pem(label, openssh=openssh)
    text = _shown_as(form, block)
    out = redact(text)
    shown_body = body[: (len(body) + 2) // 2] if form == "truncated" else body
    for line in shown_body:
        assert line[4:20] not in out, (form, out)
    assert REDACTED in out
    if form == "file":
        assert out.startswith("before\n") and out.endswith("\nafter")
    if form == "json string":
        assert json.loads(out)["type"] == "service_account"  # still valid JSON


def test_an_openssh_key_body_line_is_masked_even_without_its_begin_line() -> None:
    _, body = _pem("OPENSSH PRIVATE KEY", openssh=True)
    out = redact(f"ops/deploy_key:2:{body[0]}")
    assert body[0][24:40] not in out and out.startswith("ops/deploy_key:2:")


URL_CREDENTIALS = [
    ("https://alice:hunter2-Secret@proxy.example.com/v1", "hunter2-Secret"),
    ("http://u:p4ss_w0rd@127.0.0.1:8080/path", "p4ss_w0rd"),
    ("postgres://admin:s3cr3t-db@db.internal:5432/app", "s3cr3t-db"),
    ("redis://:r3dis-pass@cache:6379/0", "r3dis-pass"),
    ("mongodb+srv://app:M0ngoPass@cluster0.example.net/db", "M0ngoPass"),
    ("ftp://user:p%40ss%3Aword9@files.example.com/", "p%40ss%3Aword9"),
    ("https://Zq8VxK2mP0aLtR5nW7cY@git.example.com/o/r", "Zq8VxK2mP0aLtR5nW7cY"),
    ("https://api.example.com/v1?key=AbC123xyz789&x=1", "AbC123xyz789"),
    ("https://api.example.com/v1?api_key=k3y-value-9", "k3y-value-9"),
    ("https://h/x?access_token=tok_9f8e7d6c5b", "tok_9f8e7d6c5b"),
    ("https://b.s3.amazonaws.com/o?X-Amz-Signature=9a8b7c6d5e4f3a2b1c0d", "9a8b7c6d5e4f3a2b1c0d"),
    ("https://h/x?a=1&sig=Zx9Yw8Vu7", "Zx9Yw8Vu7"),
    ("https://h/cb?client_secret=cl1ent-s3cret", "cl1ent-s3cret"),
    ("https://h/x?password=pw-123456", "pw-123456"),
]


@pytest.mark.parametrize(("url", "secret"), URL_CREDENTIALS)
def test_credentials_inside_urls_are_masked_and_the_host_stays(url: str, secret: str) -> None:
    for text in (url, f"remote: {url} (fetch)", json.dumps({"baseUrl": url})):
        out = redact(text)
        assert secret not in out, out
        host = url.split("@")[-1].split("://")[-1].split("/")[0].split("?")[0]
        assert host in out


@pytest.mark.parametrize(("url", "secret"), URL_CREDENTIALS)
def test_a_configured_url_is_displayed_without_its_credentials_and_they_become_secrets(
    url: str, secret: str
) -> None:
    register_url_credentials(url)
    shown = display_url(url)
    assert shown is not None and secret not in shown and REDACTED in shown
    # Registered: the value alone, anywhere, is masked too.
    plain = secret.replace("%40", "@").replace("%3A", ":")
    assert plain not in redact(f"echo {plain}") or len(plain) < 4


def test_display_url_keeps_what_is_not_a_credential() -> None:
    url = "https://bob:pw-0123@llm.example.com:8443/v1?api-version=2024-06-01&key=k-0987"
    shown = display_url(url)
    assert shown == (
        f"https://bob:{REDACTED}@llm.example.com:8443/v1?api-version=2024-06-01&key={REDACTED}"
    )
    assert display_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"


AUTH_AND_ASSIGNMENTS = [
    ("Authorization: Bearer abc.DEF-123_456", "abc.DEF-123_456"),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ("-H 'Authorization: token 0123456789abcdef'", "0123456789abcdef"),
    ('{"Authorization": "Bearer zzTOKEN-1234"}', "zzTOKEN-1234"),
    ("password = 'correct horse battery'", "correct horse battery"),
    ('"password": "hunter2"', "hunter2"),
    ("DB_PASSWORD=Sup3rS3cret!", "Sup3rS3cret!"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"),
    ("SECRET_KEY=django-insecure-x8#k2", "django-insecure-x8#k2"),
    ("client_secret: 'cs-88997766'", "cs-88997766"),
    ("api-key: a1b2c3d4e5", "a1b2c3d4e5"),
    ("machine api.example.com login me password NeTrC-9988", "NeTrC-9988"),
    ("//registry.npmjs.org/:_authToken=npm-xyz-12345", "npm-xyz-12345"),
]


@pytest.mark.parametrize(("text", "secret"), AUTH_AND_ASSIGNMENTS)
def test_authorization_values_and_credential_assignments_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and REDACTED in out


# Code and prose that only look like secrets: masking them would break the model's edits.
LOOKALIKES = [
    "password = password",
    "token: str = ''",
    "api_key=settings.api_key",
    "for key, value in mapping.items():",
    'sorted(rows, key="name")',
    "task-management and skeleton-loader and risk-free",
    "The bearer of bad news.",
    "https://github.com/owner/repo.git",
    "git@github.com:owner/repo.git",
    "ssh://git@github.com/owner/repo",
    "https://example.com/search?page=2&sort=desc",
    "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUEXAMPLE\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "AKIA is the prefix of AWS access key ids",
    "def tokenize(text): return text.split()",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_code_and_prose_that_only_look_like_secrets_are_left_alone(text: str) -> None:
    assert redact(text) == text


KEY = "sk-live-" + _chars(40)
register_secret(KEY)


def _b64(prefix: str, value: str, suffix: str = "", urlsafe: bool = False) -> tuple[str, str]:
    """(the base64 a command prints, the part of it made only of `value`'s bits)."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    shown = encode((prefix + value + suffix).encode()).decode()
    first, last = -(-8 * len(prefix) // 6), 8 * (len(prefix) + len(value)) // 6
    return shown, shown[first:last]


def _plain(*pieces: str) -> list[tuple[str, str]]:
    return [(piece, piece) for piece in pieces]


def _thirds(value: str) -> list[str]:
    third = len(value) // 3
    return [value[:third], value[third : 2 * third], value[2 * third :]]


HALF = len(KEY) // 2
# name -> [(what a command prints, the part of it that must not be visible)]
KEY_FORMS = {
    "whole": _plain(KEY),
    "halves": _plain(KEY[:HALF], KEY[HALF:]),
    "thirds": _plain(*_thirds(KEY)),
    "reversed": _plain(KEY[::-1]),
    "reversed halves": _plain(KEY[::-1][:HALF], KEY[::-1][HALF:]),
    "upper": _plain(KEY.upper()),
    "lower": _plain(KEY.lower()),
    "rot13": _plain(codecs.encode(KEY, "rot13")),
    "hex": _plain(KEY.encode().hex()),
    "hex halves": _plain(KEY[:HALF].encode().hex(), KEY[HALF:].encode().hex()),
    "percent-encoded": _plain(quote(KEY, safe="")),
    "json string": [(json.dumps({"k": KEY}), KEY)],
    "base64": [_b64("", KEY)],
    "base64 after 1 byte": [_b64("x", KEY)],
    "base64 after 2 bytes": [_b64("xy", KEY)],
    "base64 of KEY=...": [_b64("OPENAI_API_KEY=", KEY, "\n")],
    "urlsafe base64": [_b64("x", KEY, urlsafe=True)],
    "base64 of each half": [_b64("", KEY[:HALF]), _b64("", KEY[HALF:])],
}


@pytest.mark.parametrize("pieces", KEY_FORMS.values(), ids=list(KEY_FORMS))
@pytest.mark.parametrize("layout", ["one text", "one piece per text", "between words"])
def test_the_configured_key_is_masked_in_every_split_and_encoding(
    pieces: list[tuple[str, str]], layout: str
) -> None:
    shown = [piece for piece, _ in pieces]
    if layout == "one text":
        outputs = [redact("\n".join(f"line {n}: {p}" for n, p in enumerate(shown)))]
    elif layout == "one piece per text":  # two greps, two tool results
        outputs = [redact(f"config.toml:1:{p}") for p in shown]
    else:
        outputs = [redact(f"a {p} b") for p in shown]
    for out in outputs:
        assert REDACTED in out
        for _, secret in pieces:
            visible = [secret[i : i + FRAGMENT_GUARANTEED] for i in range(len(secret) - 9)]
            assert not any(piece in out for piece in visible), out


def test_model_messages_are_redacted_and_the_same_text_gives_the_same_bytes() -> None:
    message = {"role": "tool", "tool_call_id": "c1", "content": f"key: {KEY}"}
    parts = {"role": "user", "content": [{"type": "text", "text": f"see {TOKENS['npm']}"}]}
    first, second = redact_message(message), redact_message(message)
    assert KEY not in json.dumps(first) and first == second
    assert TOKENS["npm"] not in json.dumps(redact_message(parts))
    clean = {"role": "user", "content": "hello"}
    assert redact_message(clean) is clean


@pytest.mark.parametrize("token", [*list(TOKENS.values())[:6], KEY])
def test_streamed_text_holds_back_a_last_word_until_it_is_whole(token: str) -> None:
    cut = len(token) // 2
    ready, held = split_streamed("here it is: " + token[:cut])
    assert ready == "here it is: " and held == token[:cut]
    ready, held = split_streamed(held + token[cut:] + " done")
    assert token not in redact(ready) and held == "done"
