"""The MCP client's pure parts: config shapes, names, schemas, results, rules and policy,
deferred loading, prompt arguments, mentions, launch environment, project approvals."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.config import ConfigError, resolve_settings
from claw_lsp.config.mcp_servers import parse_mcp_servers
from claw_lsp.foundation.ports import ApprovalRequest
from claw_lsp.foundation.secrets import redact
from claw_lsp.foundation.tiers import Tier
from claw_lsp.mcp.deferred import defer_if_over_budget, search_tool
from claw_lsp.mcp.launch import LaunchError, resolve_launch
from claw_lsp.mcp.names import MAX_NAME, exposed_name, exposed_names
from claw_lsp.mcp.project import ProjectApprovals, decide_project_files, read_project_files
from claw_lsp.mcp.prompts import CommandError, PromptCommand
from claw_lsp.mcp.results import render_contents, render_prompt, render_tool_result
from claw_lsp.mcp.schemas import ArgumentValidator, SchemaProblem, model_schema
from claw_lsp.mcp.tools import build_server_tools
from claw_lsp.permissions.paths import make_root
from claw_lsp.permissions.policy import CallFacts, SessionGrants, decide, may_offer
from claw_lsp.permissions.rules import PermissionRules, parse_rule
from claw_lsp.tools.catalog import Toolbox

OPENAI_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# -- config ----------------------------------------------------------------------------------
def test_mcp_servers_in_claude_code_and_cursor_shapes() -> None:
    specs = parse_mcp_servers(
        {
            "web": {
                "url": "https://mcp.example.com/mcp",
                "headers": {"Authorization": "Bearer t0k3n-abc"},
            },
            "gh": {
                "command": "npx",
                "args": ["-y", "@mcp/github"],
                "env": {"GITHUB_TOKEN": "ghp_x1y2z3"},
            },
            "off": {"command": "x", "disabled": True},
            "h2": {"type": "streamable-http", "url": "http://127.0.0.1:9/mcp"},
            "fs": {"command": "fs-server", "trusted": True, "tools": {"deny": ["write_*"]}},
        },
        origin="user",
    )
    assert [s.name for s in specs] == ["fs", "gh", "h2", "web"]  # sorted, disabled skipped
    fs, gh, h2, web = specs
    assert fs.trusted and fs.deny == ("write_*",) and fs.transport == "stdio"
    assert gh.describe() == "npx -y @mcp/github" and gh.env == (("GITHUB_TOKEN", "ghp_x1y2z3"),)
    assert h2.transport == web.transport == "http"
    # Secret-looking env and header values are masked wherever they could appear.
    assert "ghp_x1y2z3" not in redact("token ghp_x1y2z3") and "t0k3n-abc" not in redact("t0k3n-abc")
    assert "ghp_x1y2z3" not in repr(gh)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"a__b": {"command": "x"}}, "server name"),
        ({"ok": {"args": ["x"]}}, "command must be"),
        ({"ok": {"type": "sse", "url": "http://x"}}, "type must be stdio or http"),
        ({"ok": {"url": "ftp://x"}}, "url must be"),
        ({"ok": {"command": "x", "args": "not a list"}}, "args must be a list"),
        ({"ok": {"command": "x", "env": {"A": ["no"]}}}, "tables of names to strings"),
        ({"ok": {"command": "x", "trusted": "yes"}}, "trusted must be"),
        (["not", "a", "table"], "mcpServers must be a table"),
    ],
)
def test_bad_mcp_servers_are_config_errors_naming_the_key(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_settings(user_file={"mcpServers": raw})


def test_mcp_servers_are_never_taken_from_workspace_configuration() -> None:
    settings = resolve_settings(
        workspace_config={"mcpServers": {"evil": {"command": "curl"}}, "mcpTimeout": 5}
    )
    assert settings.mcp_servers == () and settings.mcp_timeout == 5
    assert resolve_settings(user_file={"mcp_schema_budget": 100}).mcp_schema_budget == 100


# -- names -----------------------------------------------------------------------------------
@given(st.text(min_size=1, max_size=60), st.lists(st.text(min_size=1, max_size=100), max_size=8))
def test_exposed_names_are_valid_unique_and_stable(server: str, names: list[str]) -> None:
    mapping = exposed_names(server, names)
    assert all(OPENAI_NAME.match(name) for name in mapping.values())
    assert len(set(mapping.values())) == len(mapping)
    assert mapping == exposed_names(server, list(reversed(names)))
    assert all(len(name) <= MAX_NAME for name in mapping.values())


def test_exposed_name_examples() -> None:
    assert exposed_name("github", "get_issue") == "mcp__github__get_issue"
    assert exposed_name("my.server", "fs/read") == "mcp__my_server__fs_read"
    clash = exposed_names("s", ["a.b", "a_b"])  # both would be mcp__s__a_b
    assert clash["a.b"] == "mcp__s__a_b" and clash["a_b"].startswith("mcp__s__a_b_")


# -- schemas ---------------------------------------------------------------------------------
def test_model_schema_drops_annotations_but_keeps_a_property_called_title() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "createIssueArguments",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}, "body": {"type": "string"}},
        "required": ["title"],
    }
    assert model_schema(schema) == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
        "required": ["title"],
    }
    assert model_schema(None) == {"type": "object", "properties": {}}
    with pytest.raises(SchemaProblem):
        model_schema({"type": "array"})


def test_argument_validation_against_the_servers_schema() -> None:
    validator = ArgumentValidator(
        {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}},
            "required": ["n"],
        }
    )
    assert validator.errors({"n": 3}) == []
    assert validator.errors({"n": 0}) == ["n: 0 is less than the minimum of 1"]
    assert validator.errors({}) == ["arguments: 'n' is a required property"]
    with pytest.raises(SchemaProblem):
        ArgumentValidator({"type": "object", "properties": {"n": {"type": 5}}}).check_schema()


# -- results ---------------------------------------------------------------------------------
def test_tool_results_as_text() -> None:
    plain = render_tool_result(
        {"content": [{"type": "text", "text": "3"}], "structuredContent": {"result": 3}}
    )
    assert plain.text == "3" and not plain.is_error
    structured = render_tool_result(
        {"content": [{"type": "text", "text": "see data"}], "structuredContent": {"a": [1, 2]}}
    )
    assert structured.text == 'see data\n{"a":[1,2]}'
    assert render_tool_result({"content": [], "isError": True}).is_error
    image = render_tool_result(
        {"content": [{"type": "image", "data": "AAAA", "mimeType": "image/png"}]}
    )
    assert image.text == "[image: image/png, 3 bytes, not shown]"
    audio = render_tool_result(
        {"content": [{"type": "audio", "data": "AAAAAAAA", "mimeType": "audio/wav"}]}
    )
    assert audio.text == "[audio: audio/wav, 6 bytes, not shown]"
    link = render_tool_result({"content": [{"type": "resource_link", "name": "n", "uri": "u://x"}]})
    assert link.text == "[resource link: n u://x]"
    assert render_contents([{"uri": "b://1", "blob": "AAAA", "mimeType": "x/y"}]) == (
        "[binary resource b://1: x/y, 3 bytes, not shown]"
    )
    prompt = {
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "hi"}},
            {"role": "assistant", "content": {"type": "text", "text": "ok"}},
        ]
    }
    assert render_prompt(prompt) == "hi\n\n[assistant]\nok"


# -- rules and policy ------------------------------------------------------------------------
def _facts(tool: str, **extra: Any) -> CallFacts:
    return CallFacts(kind="mcp", tool=tool, **extra)


def _decide(
    facts: CallFacts, tier: Tier = Tier.READ_ONLY, approvals: str = "ask", **rules: list[str]
) -> str:
    grants = rules.pop("grants", None)
    decision = decide(
        facts,
        tier=tier,
        approvals=approvals,
        rules=PermissionRules.from_config(rules),
        grants=SessionGrants(set(grants or [])),
        sandboxed=True,
    )
    return decision.action


def test_mcp_tool_decisions() -> None:
    name = "mcp__gh__create_issue"
    assert _decide(_facts(name)) == "ask"
    assert _decide(_facts(name), approvals="deny") == "deny"
    assert _decide(_facts(name), allow=["mcp__gh__*"]) == "allow"
    assert _decide(_facts(name), allow=["mcp__gh"]) == "allow"
    assert _decide(_facts(name), allow=["mcp__gh__get_*"]) == "ask"
    assert _decide(_facts(name), Tier.UNSAFE) == "allow"
    assert _decide(_facts(name), Tier.UNSAFE, deny=["mcp__gh__create_issue"]) == "deny"
    assert _decide(_facts(name), deny=["mcp__*"], allow=["mcp__gh__*"]) == "deny"
    assert _decide(_facts(name, trusted_read_only=True)) == "allow"
    assert _decide(_facts(name, trusted_read_only=True), ask=[name]) == "ask"
    assert _decide(_facts(name), grants=[f"tool:{name}"]) == "allow"
    assert _decide(_facts(name), Tier.SHELL) == "ask"  # only unsafe runs MCP tools unasked
    read = _facts("read_mcp_resource", target="docs:file:///a.md")
    assert _decide(read, allow=["read_mcp_resource(docs:*)"]) == "allow"
    assert _decide(read, allow=["read_mcp_resource(other:*)"]) == "ask"
    assert _decide(read, grants=["tool:read_mcp_resource:docs"]) == "allow"
    with pytest.raises(ValueError, match="take no"):
        parse_rule("mcp__gh__x(anything)")


def test_may_offer_hides_what_could_never_run() -> None:
    def offer(
        name: str, approvals: str = "deny", trusted: bool = False, **rules: list[str]
    ) -> bool:
        return may_offer(
            "mcp",
            name,
            tier=Tier.WRITE,
            approvals=approvals,
            rules=PermissionRules.from_config(rules),
            trusted_read_only=trusted,
        )

    assert not offer("mcp__a__x")
    assert offer("mcp__a__x", approvals="ask")
    assert offer("mcp__a__x", allow=["mcp__a__*"])
    assert offer("mcp__a__x", trusted=True)
    assert not offer("mcp__a__x", trusted=True, ask=["mcp__a__x"])
    assert not offer("mcp__a__x", approvals="ask", deny=["mcp__a__x"])
    assert not may_offer(
        "nobody-mapped", "x", tier=Tier.UNSAFE, approvals="ask", rules=PermissionRules()
    )


# -- deferred loading ------------------------------------------------------------------------
def _server_tools(count: int) -> list[Any]:
    listed = [
        {
            "name": f"t{n}",
            "description": f"Tool number {n} for widgets",
            "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}},
        }
        for n in range(count)
    ]

    async def never(*args: Any) -> Any:
        raise AssertionError("not called")

    tools, problems = build_server_tools(
        parse_mcp_servers({"s": {"command": "x"}}, origin="user")[0], listed, never
    )
    return tools


def test_per_server_tool_filters_choose_what_is_offered() -> None:
    listed = [{"name": n, "inputSchema": {"type": "object"}} for n in ("read", "write", "wipe")]
    spec = parse_mcp_servers(
        {"s": {"command": "x", "tools": {"allow": ["w*"], "deny": ["wipe"]}}}, origin="user"
    )[0]

    async def never(*args: Any) -> Any:
        raise AssertionError("not called")

    tools, problems = build_server_tools(spec, listed, never)
    assert [t.name for t in tools] == ["mcp__s__write"] and problems == []
    broken = [{"name": "bad", "inputSchema": {"type": "object", "properties": {"x": {"type": 7}}}}]
    tools, problems = build_server_tools(spec, broken, never)
    assert tools == [] and problems == []  # filtered out before its schema is looked at
    unfiltered = parse_mcp_servers({"s": {"command": "x"}}, origin="user")[0]
    tools, problems = build_server_tools(unfiltered, broken, never)
    assert tools == [] and "invalid input schema" in problems[0]


def test_deferral_and_definitions_order() -> None:
    tools = _server_tools(12)
    same, deferred = defer_if_over_budget(tools, 1_000_000)
    assert not deferred and same == tools
    hidden, deferred = defer_if_over_budget(tools, 500)
    assert deferred and all(t.deferred for t in hidden)
    box = Toolbox.of(hidden)
    assert box.definitions(Tier.UNSAFE, "ask") == []
    loaded = ["mcp__s__t7", "mcp__s__t2"]
    names = [d["function"]["name"] for d in box.definitions(Tier.UNSAFE, "ask", loaded=loaded)]
    assert names == loaded  # in the order they were loaded
    assert [t.name for t in box.offered(Tier.UNSAFE, "ask")] == [t.name for t in hidden]


def test_search_tool_lists_ranks_and_loads() -> None:
    hidden, _ = defer_if_over_budget(_server_tools(12), 10)
    search = search_tool(lambda: hidden, ["s"], len(hidden))
    loaded: list[str] = []

    class Ctx:
        loaded_tools = loaded

        @staticmethod
        def settings() -> Any:
            return resolve_settings(overrides={"tier": "unsafe"})

    def run(**args: Any) -> str:
        return asyncio.run(search.run(search.validate(args), Ctx())).content  # type: ignore[arg-type]

    assert "12 MCP tools" in run() and loaded == []
    assert run(query="t11").startswith("Loaded, callable now: mcp__s__t11") and loaded == [
        "mcp__s__t11"
    ]
    assert run(query="select:mcp__s__t3,nope") == (
        "Loaded, callable now: mcp__s__t3\nNo such tool: nope\n"
        "- mcp__s__t3: Tool number 3 for widgets"
    )
    assert loaded == ["mcp__s__t11", "mcp__s__t3"]
    assert "No MCP tool matches 'gadgets'" in run(query="gadgets")


# -- prompt commands -------------------------------------------------------------------------
REVIEW = PromptCommand(
    "mcp__fx__review",
    "fx",
    "review",
    "Review",
    ({"name": "topic", "required": True}, {"name": "lang"}),
)


def test_prompt_arguments() -> None:
    assert REVIEW.usage == "/mcp__fx__review <topic> [lang]"
    assert REVIEW.parse("parser") == {"topic": "parser"}
    assert REVIEW.parse("parser fr") == {"topic": "parser", "lang": "fr"}
    assert REVIEW.parse("lang=de the whole module") == {"lang": "de", "topic": "the whole module"}
    assert REVIEW.parse('"two words" fr') == {"topic": "two words", "lang": "fr"}
    with pytest.raises(CommandError, match="needs topic"):
        REVIEW.parse("")
    with pytest.raises(CommandError, match="usage"):
        REVIEW.parse('"unclosed')


@given(st.lists(st.text(alphabet="abcxyz-/.", min_size=1, max_size=8), min_size=2, max_size=6))
def test_prompt_positional_words_fill_the_declared_arguments_in_order(words: list[str]) -> None:
    values = REVIEW.parse(" ".join(words))
    assert values == {"topic": words[0], "lang": " ".join(words[1:])}


# -- launch ----------------------------------------------------------------------------------
def test_launch_environment_is_scrubbed_and_references_expand(tmp_path: Path) -> None:
    (spec,) = parse_mcp_servers(
        {
            "s": {
                "command": "${TOOL_BIN}/srv",
                "args": ["--x=${MISSING:-dflt}"],
                "cwd": "sub",
                "env": {"API_TOKEN": "${MY_SECRET_TOKEN}", "MODE": "fast"},
            }
        },
        origin="user",
    )
    (tmp_path / "sub").mkdir()
    parent = {
        "PATH": "/bin",
        "HOME": "/h",
        "OPENAI_API_KEY": "sk-abcdefgh12",
        "AWS_SECRET": "s3",
        "TOOL_BIN": "/opt/t",
        "MY_SECRET_TOKEN": "expanded-secret-1234",
    }
    launch = resolve_launch(spec, parent_env=parent, base_dir=tmp_path)
    assert launch.command == "/opt/t/srv" and launch.args == ("--x=dflt",)
    assert launch.cwd == tmp_path / "sub"
    assert launch.env["API_TOKEN"] == "expanded-secret-1234" and launch.env["MODE"] == "fast"
    assert "OPENAI_API_KEY" not in launch.env and "AWS_SECRET" not in launch.env
    assert launch.env["PATH"] == "/bin"
    assert "expanded-secret-1234" not in redact("value expanded-secret-1234")
    (bad,) = parse_mcp_servers({"b": {"command": "${NOPE}"}}, origin="user")
    with pytest.raises(LaunchError, match=r"needs \$\{NOPE\}"):
        resolve_launch(bad, parent_env={})


# -- project files ---------------------------------------------------------------------------
class Answers:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[ApprovalRequest] = []

    async def ask(self, request: ApprovalRequest) -> Any:
        self.asked.append(request)
        return self.answers.pop(0)


def test_project_files_decided_once_per_content(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".cursor").mkdir(parents=True)
    (ws / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"p": {"command": "run\u202eme", "trusted": True}}})
    )
    (ws / ".cursor" / "mcp.json").write_text("{not json")
    root = make_root(ws.as_uri())
    store = ProjectApprovals(tmp_path / "state" / "approvals.json")
    answers = Answers("deny")

    denials: dict[Any, Any] = {}

    def decide_now(may_ask: bool = True, approver: Any = answers) -> list[Any]:
        return asyncio.run(
            decide_project_files([root], store, approver, may_ask=may_ask, session_denials=denials)
        )

    good, broken = decide_now()
    assert good.decision == "denied" and broken.error and broken.decision is None
    assert not good.specs[0].trusted  # a project file cannot mark its server trusted
    (request,) = answers.asked
    assert "\\u202e" in request.subject and not request.allow_session  # shown, not hidden
    assert decide_now()[0].decision == "denied" and len(answers.asked) == 1  # not asked again
    (ws / ".mcp.json").write_text(json.dumps({"mcpServers": {"p": {"command": "other"}}}))
    assert decide_now(may_ask=False)[0].decision is None  # approvals off: never asked
    answers.answers.append("once")
    assert decide_now()[0].decision == "approved" and len(answers.asked) == 2
    assert store.forget(root) and decide_now(may_ask=False)[0].decision is None
    # Nobody to ask (a CLI without a terminal): denied for this run, not remembered.
    answers.interactive = False  # type: ignore[attr-defined]
    answers.answers.append("deny")
    assert decide_now()[0].decision == "denied" and decide_now()[0].decision == "denied"
    assert len(answers.asked) == 3 and store.decision(decide_now(may_ask=False)[0]) is None


def test_project_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"mcpServers": {"p": {"command": "x"}}}))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".mcp.json").symlink_to(outside)
    (file,) = read_project_files(make_root(ws.as_uri()))
    assert file.error and "outside" in file.error and not file.specs
