"""Units of the language tools: finding a symbol on a line (property-based), the diagnostics
store and delta, the languageServers setting, reading WorkspaceEdits, the schema budget."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.config import ConfigError, Settings, resolve_settings
from claw_lsp.edits.positions import LineIndex, Position, PositionEncoding, Range
from claw_lsp.edits.textdiff import TextEdit, apply_edits
from claw_lsp.headless import DiskEditor
from claw_lsp.lsp_tools.delta import render_delta
from claw_lsp.lsp_tools.diagnostics import (
    DiagnosticStore,
    errors_delta,
    parse_diagnostic,
    parse_diagnostics,
)
from claw_lsp.lsp_tools.hub import LanguageHub
from claw_lsp.lsp_tools.process_env import language_server_env
from claw_lsp.lsp_tools.render import EditNotSupported, spots, workspace_edit_texts
from claw_lsp.lsp_tools.source import LanguageTools
from claw_lsp.lsp_tools.symbols import SymbolNotFound, locate_symbol
from claw_lsp.permissions.paths import Workspace, make_root

ROOT = make_root("file:///tmp")

# -- locate_symbol ------------------------------------------------------------------------------
IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
FILLER = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)


@given(
    before=st.lists(FILLER, max_size=4),
    after=st.lists(FILLER, max_size=4),
    prefix=FILLER,
    suffix=FILLER,
    symbol=IDENTIFIER,
)
def test_locate_finds_the_symbol_and_its_utf16_column_round_trips(
    before: list[str], after: list[str], prefix: str, suffix: str, symbol: str
) -> None:
    # Keep the symbol a whole word: the filler next to it must not be a word character.
    line_text = f"{prefix} {symbol} {suffix}"
    text = "\n".join([*before, line_text, *after])
    line = len(before) + 1
    spot = locate_symbol(text, line, symbol)
    assert text[spot.offset : spot.offset + len(symbol)] == symbol
    index = LineIndex(text)
    position = index.offset_to_position(spot.offset, PositionEncoding.UTF16)
    assert position.line == line - 1
    assert index.position_to_offset(position, PositionEncoding.UTF16) == spot.offset
    assert 1 <= spot.occurrence <= spot.count


@given(symbol=IDENTIFIER, count=st.integers(min_value=2, max_value=5))
def test_occurrence_picks_among_repeats(symbol: str, count: int) -> None:
    line = " + ".join([symbol] * count)
    for occurrence in range(1, count + 1):
        spot = locate_symbol(line, 1, symbol, occurrence)
        assert spot.count == count
        assert spot.offset == line.index(symbol) + (occurrence - 1) * (len(symbol) + 3)
    with pytest.raises(SymbolNotFound, match=f"occurs {count} time"):
        locate_symbol(line, 1, symbol, count + 1)


def test_whole_words_win_and_the_cursor_goes_to_the_last_identifier() -> None:
    text = "greeting = greet(name) + self.greet\n"
    assert locate_symbol(text, 1, "greet").offset == text.index("greet(")
    spot = locate_symbol(text, 1, "greet", 2)
    assert spot.offset == text.rindex("greet") and spot.count == 2
    assert locate_symbol(text, 1, "self.greet").offset == text.rindex("greet")
    assert locate_symbol(text, 1, "greet(").offset == text.index("greet(")
    assert "occurs 2 times on line 1" in spot.note("greet", 1)


def test_not_found_says_what_the_line_holds_and_where_the_symbol_is() -> None:
    text = "import os\n\nx = os.path\n"
    with pytest.raises(SymbolNotFound) as caught:
        locate_symbol(text, 2, "os", label="a.py")
    message = str(caught.value)
    assert "'os' is not on line 2 of a.py" in message and "it is on line 1, 3" in message
    with pytest.raises(SymbolNotFound, match=r"outside a\.py"):
        locate_symbol(text, 9, "os", label="a.py")
    with pytest.raises(SymbolNotFound, match="empty"):
        locate_symbol(text, 1, "  ")


def test_astral_characters_before_the_symbol_count_twice_in_utf16() -> None:
    text = 's = "😀😀"; name = 1\n'
    spot = locate_symbol(text, 1, "name")
    assert LineIndex(text).offset_to_position(spot.offset, PositionEncoding.UTF16).character == 12
    assert LineIndex(text).offset_to_position(spot.offset, PositionEncoding.UTF32).character == 10


# -- diagnostics -----------------------------------------------------------------------------
def diag(message: str, line: int = 0, severity: int = 1, source: str = "compile") -> dict:
    start = {"line": line, "character": 2}
    return {
        "range": {"start": start, "end": start},
        "message": message,
        "severity": severity,
        "source": source,
    }


def test_parse_is_tolerant_and_drops_claws_own_hints() -> None:
    assert parse_diagnostic({"message": "no range"}) is None
    assert parse_diagnostic("junk") is None
    parsed = parse_diagnostic({**diag("x"), "severity": 99, "code": 7})
    assert parsed is not None and parsed.severity == 1 and parsed.code == "7"
    assert parse_diagnostics([diag("keep"), {**diag("hint"), "source": "claw"}, 3]) == [
        parse_diagnostic(diag("keep"))
    ]
    assert parse_diagnostics({"not": "a list"}) == []


def test_delta_counts_errors_as_multisets_and_ignores_moves_and_warnings() -> None:
    before = parse_diagnostics([diag("undefined x", 1), diag("undefined x", 5), diag("w", 2, 2)])
    after = parse_diagnostics([diag("undefined x", 9), diag("bad syntax", 3), diag("w2", 1, 2)])
    delta = errors_delta(before, after)
    assert [d.message for d in delta.new] == ["bad syntax"]
    assert [d.message for d in delta.fixed] == ["undefined x"]
    assert errors_delta(before, before).new == [] and errors_delta(before, before).fixed == []


def test_render_delta_says_only_what_changed() -> None:
    error = parse_diagnostics([diag("SyntaxError: '(' was never closed", 2)])
    assert render_delta("app.py", [], []) == []
    assert render_delta("app.py", error, error) == []
    new = render_delta("app.py", [], error)
    assert new[0] == "Diagnostics: app.py: 1 new error"
    assert "app.py:3:3 error [compile]: SyntaxError: '(' was never closed" in new[1]
    assert render_delta("app.py", error, [])[0] == "Diagnostics: app.py: fixed 1 error"
    unknown = render_delta("app.py", None, error)
    assert "has 1 error after this edit" in unknown[0] and "none known" in unknown[0]
    many = render_delta("app.py", [], parse_diagnostics([diag(f"e{n}", n) for n in range(15)]))
    assert many[0] == "Diagnostics: app.py: 15 new errors" and "... and 5 more" in many[-1]


async def test_store_waits_for_every_source_and_the_version() -> None:
    store = DiagnosticStore()
    uri = "file:///tmp/claw-test-doc.py"
    mark = store.mark()
    waiting = asyncio.ensure_future(
        store.wait(uri, sources=["a", "b"], version=3, after=mark, wait_s=5)
    )
    store.publish(uri, "a", 2, parse_diagnostics([diag("old")]))
    store.publish(uri, "a", 3, [])
    await asyncio.sleep(0.01)
    assert not waiting.done()
    store.publish("file:///tmp/claw-test-doc.py", "b", None, parse_diagnostics([diag("b")]))
    assert await waiting is True
    assert [d.message for d in store.current(uri)] == ["b"]
    assert await store.wait(uri, sources=["c"], version=None, after=0, wait_s=0.05) is False
    store.forget_source("b")
    assert store.current(uri) == []


# -- settings --------------------------------------------------------------------------------
def test_language_servers_setting_is_validated_and_never_from_the_workspace() -> None:
    spec = {"python": {"command": ["jedi-language-server"], "extensions": ["py"]}}
    settings = resolve_settings(init_options={"languageServers": spec, "diagnosticsWait": 0.5})
    python = settings.language_servers["python"]
    assert python.command == ("jedi-language-server",) and python.extensions == (".py",)
    assert settings.diagnostics_wait == 0.5
    assert resolve_settings(workspace_config={"languageServers": spec}).language_servers == {}
    assert resolve_settings(workspace_config={"diagnosticsWait": 2}).diagnostics_wait == 2
    for bad, needle in (
        ({"python": {"command": []}}, "command"),
        ({"python": {"command": ["x"]}}, "filetypes or extensions"),
        ({"python": {"command": ["x"], "extensions": [".py"], "shell": True}}, "unknown"),
        ([1], "must map a name"),
    ):
        with pytest.raises(ConfigError, match=needle):
            resolve_settings(init_options={"languageServers": bad})
    with pytest.raises(ConfigError, match="diagnosticsWait"):
        resolve_settings(init_options={"diagnosticsWait": 99})


def test_language_servers_never_get_secrets() -> None:
    env = language_server_env(
        {"PATH": "/bin", "OPENAI_API_KEY": "sk", "GITHUB_TOKEN": "t", "GOPATH": "/go", "X": "1"}
    )
    assert env == {"PATH": "/bin", "GOPATH": "/go", "X": "1"}


# -- results ---------------------------------------------------------------------------------
def test_workspace_edits_from_document_changes_or_changes() -> None:
    rng = {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 9}}
    edit = {"range": rng, "newText": "hello"}
    by_changes = workspace_edit_texts({"changes": {"file:///a.py": [edit]}})
    documented = workspace_edit_texts(
        {
            "documentChanges": [
                {"textDocument": {"uri": "file:///a.py", "version": 3}, "edits": [edit]}
            ]
        }
    )
    assert by_changes == documented
    (only,) = documented["file:///a.py"]
    assert only == TextEdit(Range(Position(0, 4), Position(0, 9)), "hello")
    assert apply_edits("def greet():", [only], PositionEncoding.UTF16) == "def hello():"
    with pytest.raises(EditNotSupported, match="rename a file"):
        workspace_edit_texts(
            {"documentChanges": [{"kind": "rename", "oldUri": "a", "newUri": "b"}]}
        )


def test_locations_and_links_are_read_alike() -> None:
    rng = {"start": {"line": 2, "character": 1}, "end": {"line": 2, "character": 4}}
    link = {"targetUri": "file:///b.py", "targetRange": rng, "targetSelectionRange": rng}
    assert spots([link], PositionEncoding.UTF16) == spots(
        {"uri": "file:///b.py", "range": rng}, PositionEncoding.UTF16
    )
    assert spots(None, PositionEncoding.UTF16) == []


def test_the_six_schemas_fit_the_budget_and_are_offered_only_with_a_server() -> None:
    configured = resolve_settings(
        init_options={"languageServers": {"py": {"command": ["x"], "extensions": [".py"]}}}
    )
    hub = LanguageHub(settings=lambda: configured, workspace=Workspace(), editor=DiskEditor())
    tools = LanguageTools(hub).tools(ROOT)
    assert [t.name for t in tools] == [
        "diagnostics",
        "definition",
        "references",
        "hover",
        "workspace_symbols",
        "rename_symbol",
    ]
    assert sum(len(json.dumps(t.definition, separators=(",", ":"))) for t in tools) <= 1200
    bare = LanguageHub(settings=lambda: Settings(), workspace=Workspace(), editor=DiskEditor())
    assert LanguageTools(bare).tools(ROOT) == () and LanguageTools(bare).observer() is None
