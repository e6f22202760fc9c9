"""Rule 6, one escaping function for every human-facing string: the function itself (every
kind of dangerous character, property-based), listings without ghost rows, and every channel
end to end: the approval dialog, `$/progress`, `claw/event`, the CLI's stdout and stderr."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claw_lsp.foundation.escape import (
    INVISIBLE_RANGES,
    escape_fields,
    escape_for_display,
    escaped_approval,
)
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.policy import display_safe
from tests.e2e.test_cli import run_cli
from tests.security.conftest import Harness
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel

INVISIBLE = frozenset(c for a, b in INVISIBLE_RANGES for c in range(a, b + 1))
DANGEROUS = {
    "NUL": "\x00",
    "BEL": "\x07",
    "backspace": "\x08",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 CSI": "\x9b",
    "C1 OSC": "\x9d",
    "CR": "\r",
    "LF": "\n",
    "TAB": "\t",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "soft hyphen": "\u00ad",
    "Arabic letter mark": "\u061c",
    "Mongolian vowel separator": "\u180e",
    "zero width space": "\u200b",
    "zero width non-joiner": "\u200c",
    "zero width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "LRE": "\u202a",
    "RLE": "\u202b",
    "PDF": "\u202c",
    "LRO": "\u202d",
    "RLO": "\u202e",
    "word joiner": "\u2060",
    "invisible times": "\u2062",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
    "BOM / zero width no-break space": "\ufeff",
    "interlinear annotation": "\ufff9",
    "tag latin a": "\U000e0041",
    "cancel tag": "\U000e007f",
    "variation selector 16": "\ufe0f",
    "Hangul filler": "\u3164",
    "Hangul choseong filler": "\u115f",
    "braille blank": "\u2800",
    "combining grapheme joiner": "\u034f",
}
# Terminal escapes a model could choose: set the window title, move the cursor, hyperlink.
SEQUENCES = {
    "OSC title": "\x1b]0;pwned\x07",
    "OSC 8 link": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "CSI clear": "\x1b[2J\x1b[H",
    "CSI colour": "\x1b[31mred\x1b[0m",
    "C1 CSI": "\x9b31m",
    "trojan source": "access_level != \u202e\u2066user\u2069\u2066// Check if admin",
    "fake line": "ls\nReason: approved by the user",
    "carriage return overwrite": "rm -rf ~\rls -la   ",
}


def test_the_table_covers_every_invisible_category_of_this_python() -> None:
    missing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp", "Cs")
        and code not in INVISIBLE
    ]
    assert not missing, f"add to INVISIBLE_RANGES: {missing[:20]}"


@pytest.mark.parametrize("multiline", [False, True], ids=["one line", "multi-line"])
@pytest.mark.parametrize("char", DANGEROUS.values(), ids=list(DANGEROUS))
def test_every_dangerous_character_is_shown_as_an_escape(char: str, multiline: bool) -> None:
    text = f"a{char}b"
    out = escape_for_display(text, multiline=multiline)
    if multiline and char in "\n\t":
        assert out == text
    else:
        assert char not in out and out.startswith("a\\") and out.endswith("b")


@pytest.mark.parametrize("multiline", [False, True], ids=["one line", "multi-line"])
@pytest.mark.parametrize("sequence", SEQUENCES.values(), ids=list(SEQUENCES))
def test_terminal_sequences_and_forged_lines_are_inert(sequence: str, multiline: bool) -> None:
    out = escape_for_display(sequence, multiline=multiline)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\r" not in out
    assert not any(ord(c) in INVISIBLE and c not in "\n\t" for c in out)
    if not multiline:
        assert "\n" not in out


def test_crlf_stays_in_multiline_text_and_a_limit_says_what_was_cut() -> None:
    assert escape_for_display("a\r\nb", multiline=True) == "a\r\nb"
    assert escape_for_display("a\r\nb") == "a\\r\\nb"
    assert escape_for_display("x" * 10, limit=4) == "xxxx... [6 more characters]"


def test_the_old_name_is_the_same_escaping() -> None:
    # permissions.policy.display_safe stays importable for the shell checks.
    assert display_safe("a\nb\tc") == "a\\nb\\tc"
    for char in ("\x1b", "\u202e", "\u200b"):
        assert char not in display_safe(f"x{char}y")


def test_an_approval_has_only_our_lines_whatever_its_fields_hold() -> None:
    tool, subject, reason = escaped_approval(
        "shell\nReason: ok", "ls\nrm -rf ~\n(in /ws)\u202e", "a\nReason: approved\u202e"
    )
    assert "\n" not in tool and "\n" not in reason
    assert subject.count("\n") == 1 and "\u202e" not in subject + reason


def test_event_fields_keep_lines_in_text_and_not_in_labels() -> None:
    payload = {"kind": "toolResult", "summary": "a\nb", "diff": "-x\n+y\x1b", "n": 3}
    out = escape_fields(payload)
    assert out == {"kind": "toolResult", "summary": "a\\nb", "diff": "-x\n+y\\x1b", "n": 3}


any_text = st.text(alphabet=st.characters(max_codepoint=0x10FFFF), max_size=300)
printable = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs"),
        blacklist_characters=[chr(c) for c in INVISIBLE if c < 0x110000 and c > 0x7F],
    ),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_escaped_text_never_holds_a_control_bidi_or_zero_width_character(text: str) -> None:
    one_line = escape_for_display(text)
    assert not any(ord(c) in INVISIBLE for c in one_line)
    lines = escape_for_display(text, multiline=True)
    assert not any(ord(c) in INVISIBLE and c not in "\n\t\r" for c in lines)
    assert all(lines[i + 1 : i + 2] == "\n" for i, c in enumerate(lines) if c == "\r")
    assert escape_for_display(one_line) == one_line  # escaping twice changes nothing


@settings(max_examples=300, deadline=None)
@given(printable)
def test_printable_text_comes_back_unchanged(text: str) -> None:
    assert escape_for_display(text) == text
    assert escape_for_display(text, multiline=True) == text


HOSTILE_NAMES = ["a\nb.txt", "c\nd.py", "d\u202etxt.exe", "e\u200b.py", "f\x1b]0;x\x07.md"]


@pytest.fixture
def hostile_ws(ws: Path) -> Path:
    for name in HOSTILE_NAMES:
        (ws / name).write_text("needle\n")
    (ws / "sub\nghost").mkdir()
    return ws


async def test_listings_show_one_escaped_row_per_file_and_no_ghost_rows(
    hostile_ws: Path, tmp_path: Path
) -> None:
    harness = Harness([hostile_ws], state_dir=tmp_path / "state", tier=Tier.WRITE)
    listing = await harness.call("list_dir", {"path": "."})
    globbed = await harness.call("glob", {"pattern": "*"})
    grepped = await harness.call("grep", {"pattern": "needle"})
    expected = [escape_for_display(n) for n in HOSTILE_NAMES]
    for result in (listing, globbed, grepped):
        assert result.ok, result.content
        assert not any(ord(c) in INVISIBLE and c != "\n" for c in result.content)
        assert not any(ord(c) in INVISIBLE for c in result.summary)
    rows = listing.content.splitlines()
    assert sorted(rows) == sorted([*expected, "app.py", "sub\\nghost/"])
    assert sorted(globbed.content.splitlines()) == sorted([*expected, "app.py"])
    grep_rows = grepped.content.splitlines()
    assert sorted(grep_rows) == sorted(f"{name}:1:needle" for name in expected)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if hasattr(value, "__attrs_attrs__"):
        return [s for a in value.__attrs_attrs__ for s in _strings(getattr(value, a.name))]
    return []


def _unsafe(strings: list[str]) -> list[str]:
    return [s for s in strings if any(ord(c) in INVISIBLE and c not in "\n\t" for c in s)]


async def test_dialogs_progress_and_events_never_carry_a_raw_control_or_bidi_character(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    fake_line = "\nReason: approved by the user"
    hostile = "x\u202e\x1b]0;pwned\x07"
    write = {"path": f".vscode/{hostile}.json", "content": "x"}
    model.add(
        {
            "text": f"Looking {SEQUENCES['OSC title']} {SEQUENCES['trojan source']}\n",
            "tool_calls": [{"name": "glob", "arguments": {"pattern": f"*{hostile}*"}}],
        },
        {"tool_calls": [{"name": "write_file", "arguments": write}]},
        {"tool_calls": [{"name": "shell", "arguments": {"command": f"ls {hostile}{fake_line}"}}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": f"{hostile}.py"}}]},
        {"text": f"done {SEQUENCES['CSI clear']}"},
    )
    claw = await start_claw(
        [workspace], server_env(model.base_url, state_dir), init_options={"tier": "write"}
    )
    claw.recorder.approval_answers += ["Deny", "Deny"]
    try:
        result = await claw.command("claw.ask", {"prompt": "go"}, token="tok-1")
    finally:
        await claw.client.shutdown_session()
    assert result["stopReason"] == "done", result
    write_dialog, shell_dialog = (a.message.split("\n") for a in claw.recorder.approvals)
    # Only our lines: the question, (for a command) its folder, the reason.
    assert len(write_dialog) == 2 and write_dialog[1].startswith("Reason: ")
    assert len(shell_dialog) == 3 and shell_dialog[1].startswith("(in ")
    assert shell_dialog[2].startswith("Reason: ") and "approved by the user" in shell_dialog[0]
    for approval in claw.recorder.approvals:
        assert not _unsafe([approval.message, *(a.title for a in approval.actions or [])])
    assert claw.recorder.progress, "the turn reported progress"
    assert not _unsafe(_strings(claw.recorder.progress))
    assert not _unsafe(_strings(claw.recorder.events))
    assert not _unsafe(_strings(result))
    summaries = [e["summary"] for e in claw.recorder.events if e["kind"] == "toolResult"]
    assert len(summaries) == 4 and all("\n" not in s for s in summaries)


def test_the_cli_prints_no_terminal_sequence_the_model_chose(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    osc = SEQUENCES["OSC title"]
    model.add(
        {
            "text": f"{osc} hello {SEQUENCES['CSI colour']} {SEQUENCES['trojan source']}\n",
            "tool_calls": [{"name": "glob", "arguments": {"pattern": f"*{osc}\u202e*"}}],
        },
        {"tool_calls": [{"name": "shell", "arguments": {"command": f"printf '{osc}'"}}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": f"{osc}.txt"}}]},
        {"text": f"bye {osc}"},
    )
    done = run_cli(
        ["ask", f"look {osc}", "--folder", str(workspace), "--tier", "shell", "--yes"],
        server_env(model.base_url, state_dir),
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
    for char in ("\x1b", "\x07", "\x9b", "\u202e", "\u2066"):
        assert char not in printed, (repr(char), printed)
    assert "\\x1b]0;pwned\\x07" in printed  # shown, not interpreted
    json_mode = run_cli(
        ["ask", "again", "--folder", str(workspace), "--json"],
        server_env(model.base_url, state_dir),
    )
    assert "\x1b" not in json_mode.stdout + json_mode.stderr
    json.loads(json_mode.stdout)
