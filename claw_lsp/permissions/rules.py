"""User permission rules in Claude Code style: `deny` -> `ask` -> `allow`, first match wins.

A rule is `tool` or `tool(pattern)`. MCP tools are named as the model sees them,
`mcp__<server>__<tool>`, with globs (`mcp__fs__*`); `mcp__<server>` alone covers every tool of
that server; `read_mcp_resource(<server>:<uri glob>)` covers resource reads. Shell patterns are
matched per segment of the parsed command (see shell_classify), so `a && b` needs a rule for
each part. File-tool patterns are globs over the workspace-relative path (`**` spans
directories).

Argument-constraining shell rules are advisory, not a security control: the sandbox stays the
boundary. A glob inside a word constrains only that word, so `shell(curl https://api.example.com/*)`
allows `curl https://api.example.com/v1` but not `... -d @.env` or a second URL after it; still,
no rule can know what every program does with its arguments. To keep allow rules from
over-granting they never apply to a command with a substitution or a redirection, to a segment
with a `$VAR` expansion or a path outside the workspace, and a segment that runs code chosen by
its arguments (python -c, bash -c, npx, sudo, env, xargs, find -exec...) is allowed only by a
rule that names it specifically (an exact pattern or at least two literal words such as
`npm run test:*`), never by `shell`, `shell(*)` or `shell(python *)`. Deny and ask rules, by
contrast, match generously: also against the command with its wrappers removed and against
commands nested in `bash -c`, `eval` and `$(...)`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from claw_lsp.permissions.shell_classify import Kind, Risk, Segment, ShellVerdict

Decision = Literal["allow", "ask", "deny"]

SHELL_TOOL = "shell"
_SHELL_ALIASES = frozenset({"shell", "run_shell", "bash"})
READ_TOOLS = frozenset({"read_file", "grep", "glob", "list_dir"})
WRITE_TOOLS = frozenset({"write_file", "edit_file", "apply_patch"})
_GROUPS: dict[str, frozenset[str]] = {"read": READ_TOOLS, "edit": WRITE_TOOLS, "write": WRITE_TOOLS}
READ_MCP_RESOURCE = "read_mcp_resource"
# The agent's own tools (issue 18): rules name them without a pattern (`deny: ["task"]`).
AGENT_TOOLS = frozenset({"todo_write", "exit_plan_mode", "task"})
_KNOWN_TOOLS = (
    _SHELL_ALIASES | READ_TOOLS | WRITE_TOOLS | _GROUPS.keys() | {READ_MCP_RESOURCE} | AGENT_TOOLS
)
MCP_PREFIX = "mcp__"
_MCP_RULE = re.compile(r"^\s*(mcp__[A-Za-z0-9_.*?-]+)\s*(\(.*\))?\s*$", re.DOTALL)
_RULE_SYNTAX = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
# Segments of these kinds run code chosen by their arguments; broad rules must not cover them.
_NEEDS_SPECIFIC_RULE = frozenset({Kind.CODE})


@dataclass(frozen=True)
class Rule:
    tool: str  # canonical: "shell", a file tool name, or a group "read" / "edit" / "write"
    pattern: str | None

    def __str__(self) -> str:
        return self.tool if self.pattern is None else f"{self.tool}({self.pattern})"


def parse_rule(text: str) -> Rule:
    """Parses `tool` or `tool(pattern)`; raises ValueError with a message fit for the user."""
    if not isinstance(text, str):
        raise ValueError(f"permission rule must be a string, got {type(text).__name__}")
    mcp = _MCP_RULE.match(text)
    if mcp is not None:
        if mcp.group(2):
            raise ValueError(
                f"bad permission rule {text!r}: MCP rules name tools (globs allowed) and take "
                "no (pattern)"
            )
        return Rule(mcp.group(1), None)  # case kept: MCP tool names are case-sensitive
    match = _RULE_SYNTAX.match(text)
    if match is None:
        raise ValueError(f"bad permission rule {text!r}: expected tool or tool(pattern)")
    name, pattern = match.group(1), match.group(2)
    tool = name.lower()
    if tool not in _KNOWN_TOOLS:
        known = ", ".join(sorted(_KNOWN_TOOLS))
        raise ValueError(
            f"bad permission rule {text!r}: unknown tool {name!r} (known: {known}, "
            "and mcp__<server>__<tool>)"
        )
    if tool in _SHELL_ALIASES:
        tool = SHELL_TOOL
    if pattern is not None:
        pattern = " ".join(pattern.split()) if tool == SHELL_TOOL else pattern.strip()
        if not pattern:
            raise ValueError(f"bad permission rule {text!r}: empty pattern; write just {name}")
    return Rule(tool, pattern)


@dataclass(frozen=True)
class PermissionRules:
    allow: tuple[Rule, ...] = ()
    ask: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> PermissionRules:
        lists: dict[str, tuple[Rule, ...]] = {}
        for key in ("allow", "ask", "deny"):
            value = raw.get(key, ())
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise ValueError(f"permissions.{key} must be a list of rule strings")
            lists[key] = tuple(parse_rule(item) for item in value)
        return cls(**lists)

    def decide_shell(self, verdict: ShellVerdict) -> Decision | None:
        segments = verdict.segments
        shell_deny = [r for r in self.deny if r.tool == SHELL_TOOL]
        if any(_loose_match(r, s) for r in shell_deny for s in segments):
            return "deny"
        shell_ask = [r for r in self.ask if r.tool == SHELL_TOOL]
        if any(_loose_match(r, s) for r in shell_ask for s in segments):
            return "ask"
        if not verdict.parsed or verdict.has_substitution or verdict.has_redirection:
            return None
        if not segments or verdict.outside_paths:
            return None
        shell_allow = [r for r in self.allow if r.tool == SHELL_TOOL]
        if all(any(_allow_match(r, s) for r in shell_allow) for s in segments):
            return "allow"
        return None

    def decide_tool(self, name: str, target: str | None = None) -> Decision | None:
        """Rules naming a tool (MCP tools; `target` is `server:uri` for a resource read)."""
        ordered: tuple[tuple[Decision, tuple[Rule, ...]], ...] = (
            ("deny", self.deny),
            ("ask", self.ask),
            ("allow", self.allow),
        )
        for decision, rules in ordered:
            if any(_tool_rule_matches(rule, name, target) for rule in rules):
                return decision
        return None

    def decide_path(self, tool: str, relative_path: str) -> Decision | None:
        name = tool.lower()
        path = relative_path.replace("\\", "/").lstrip("/")
        while path.startswith("./"):
            path = path[2:]
        ordered: tuple[tuple[Decision, tuple[Rule, ...]], ...] = (
            ("deny", self.deny),
            ("ask", self.ask),
            ("allow", self.allow),
        )
        for decision, rules in ordered:
            if any(_path_rule_matches(rule, name, path) for rule in rules):
                return decision
        return None


def _tool_rule_matches(rule: Rule, name: str, target: str | None) -> bool:
    if rule.tool in AGENT_TOOLS:
        return rule.tool == name
    if rule.tool.startswith(MCP_PREFIX):
        pattern = rule.tool if "__" in rule.tool[len(MCP_PREFIX) :] else rule.tool + "__*"
        return fnmatch.fnmatchcase(name, pattern)
    if rule.tool != READ_MCP_RESOURCE or name != READ_MCP_RESOURCE:
        return False
    return rule.pattern is None or fnmatch.fnmatchcase(target or "", rule.pattern)


def _path_rule_matches(rule: Rule, tool: str, path: str) -> bool:
    if rule.tool == SHELL_TOOL or rule.tool.startswith(MCP_PREFIX):
        return False
    tools = _GROUPS.get(rule.tool, frozenset({rule.tool}))
    if tool not in tools:
        return False
    return rule.pattern is None or _glob_regex(rule.pattern.lstrip("/")).fullmatch(path) is not None


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` spans directories (`**/` also matches none), `*` and `?` stay within one."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out), re.DOTALL)


def _shell_pattern(rule: Rule) -> str:
    pattern = rule.pattern or "*"
    if pattern.endswith(":*"):
        pattern = pattern[:-2].rstrip() + " *"
    return pattern


def _loose_match(rule: Rule, segment: Segment) -> bool:
    """Deny/ask: glob over the whole command line, with and without wrappers."""
    if rule.pattern is None:
        return True
    pattern = _shell_pattern(rule)
    for form in _loose_forms(segment):
        if not form:
            continue
        if fnmatch.fnmatchcase(form, pattern):
            return True
        # "git push *" must also deny a bare "git push"
        if pattern.endswith(" *") and form == pattern[:-2]:
            return True
    return False


_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


def _loose_forms(segment: Segment) -> set[str]:
    """Spellings of one segment that a deny rule should see through."""
    forms = {" ".join(segment.argv), segment.text.strip()}
    effective = list(segment.effective_argv)
    if effective:
        forms.add(" ".join(effective))
        effective[0] = segment.program or effective[0]  # /bin/rm -> rm
        forms.add(" ".join(effective))
    if effective and effective[0] == "git":
        # `git -C dir -c k=v push` is still a push
        words, index = effective[1:], 0
        while index < len(words) and words[index].startswith("-"):
            index += 2 if words[index] in _GIT_OPTIONS_WITH_VALUE else 1
        forms.add(" ".join(["git", *words[index:]]))
    return forms


def _allow_match(rule: Rule, segment: Segment) -> bool:
    """Allow: word by word on the literal argv; a trailing `*` accepts any further arguments."""
    if segment.has_expansion or segment.outside_paths or not segment.argv:
        return False
    pattern_words = _shell_pattern(rule).split(" ")
    if _needs_specific_rule(segment) and not _is_specific(rule, segment):
        return False
    return _match_words(pattern_words, list(segment.argv))


def _needs_specific_rule(segment: Segment) -> bool:
    # A reader made dangerous by its flags (`find -exec`, `find -delete`) is not the harmless
    # program a broad rule was written for.
    risky_reader = segment.kind == Kind.READ and segment.risk == Risk.APPROVAL
    return segment.kind in _NEEDS_SPECIFIC_RULE or risky_reader


def _is_specific(rule: Rule, segment: Segment) -> bool:
    if rule.pattern is None:
        return False
    words = _shell_pattern(rule).split(" ")
    literal: list[str] = []
    for word in words:
        if any(c in word for c in "*?["):
            break
        literal.append(word)
    exact = len(literal) == len(words)
    first_matches = bool(literal) and literal[0] == segment.argv[0]
    return first_matches and (exact or len(literal) >= 2)


def _match_words(pattern: list[str], argv: list[str]) -> bool:
    if not pattern:
        return not argv
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if not rest:
            return True
        return any(_match_words(rest, argv[i:]) for i in range(len(argv) + 1))
    if not argv:
        return False
    # A glob inside a word constrains that word only: `curl https://host/*` does not also allow
    # `-d @.env` or a second URL after it; further arguments need a ` *` word or `:*`.
    return fnmatch.fnmatchcase(argv[0], head) and _match_words(rest, argv[1:])
