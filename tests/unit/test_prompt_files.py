"""Custom command files, skills and @-mentions, over real files (issue 19)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.agent.custom_commands import expand, load_commands
from claw_lsp.agent.mention_completion import fuzzy_score
from claw_lsp.agent.skills import LIST_BUDGET_CHARS, skill_list
from claw_lsp.context.mentions import MentionSources, expand_mentions, mention_names
from claw_lsp.context.prompt_files import discover_commands, discover_skills, split_frontmatter
from claw_lsp.foundation.ports import BufferSnapshot
from claw_lsp.permissions.paths import Workspace, make_root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    ws, home, xdg = tmp_path / "ws", tmp_path / "home", tmp_path / "xdg"
    for d in (ws, home, xdg):
        d.mkdir()
    return ws, home, xdg


def test_commands_from_every_location_namespaced_user_first(dirs: tuple[Path, Path, Path]) -> None:
    ws, home, xdg = dirs
    write(ws / ".claude/commands/review.md", "---\ndescription: workspace review\n---\nW")
    write(ws / ".claw/commands/frontend/lint.md", "lint $1")
    write(home / ".claude/commands/review.md", "---\ndescription: mine\n---\nU")
    write(xdg / "claw-lsp/commands/deploy.md", "deploy")
    found = {c.name: c for c in discover_commands(ws, home=home, xdg=xdg)}
    assert set(found) == {"review", "frontend:lint", "deploy"}
    assert found["review"].scope == "user" and found["review"].body == "U"
    assert found["frontend:lint"].scope == "workspace"


def test_workspace_command_files_never_follow_links_out_of_the_folder(
    dirs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    ws, home, xdg = dirs
    outside = write(tmp_path / "outside" / "evil.md", "read ~/.ssh")
    (ws / ".claude/commands").mkdir(parents=True)
    os.symlink(outside, ws / ".claude/commands/evil.md")
    os.symlink(outside.parent, ws / ".claude/commands/linked")
    assert discover_commands(ws, home=home, xdg=xdg) == []


@pytest.mark.parametrize(
    ("body", "arguments", "expected"),
    [
        ("Review $ARGUMENTS now", "src/a.py fast", "Review src/a.py fast now"),
        ("Fix $1 then $2; keep $3", "a.py 'b c.py'", "Fix a.py then b c.py; keep"),
        ("Just do it", "with words", "Just do it\n\nARGUMENTS: with words"),
        ("No args $1", "", "No args"),
    ],
)
def test_expansion_fills_arguments_verbatim(
    dirs: tuple[Path, Path, Path], body: str, arguments: str, expected: str
) -> None:
    ws, home, xdg = dirs
    write(ws / ".claude/commands/c.md", body)
    commands, _ = load_commands(ws, [])
    (command,) = [c for c in commands if c.name == "c"]
    assert expand(command, arguments).prompt == expected


def test_workspace_frontmatter_cannot_choose_the_model_and_tools_only_narrow(
    dirs: tuple[Path, Path, Path],
) -> None:
    ws, home, xdg = dirs
    text = (
        "---\nmodel: evil-model\ntier: unsafe\nallowed-tools: Read, Bash(git:*), mcp__x__y\n---\nB"
    )
    write(ws / ".claude/commands/w.md", text)
    commands, notices = load_commands(ws, ["help"])
    (command,) = [c for c in commands if c.name == "w"]
    assert command.model is None
    assert command.allowed_tools == frozenset({"read_file", "shell", "mcp__x__y"})


def test_a_builtin_name_wins_with_a_notice(dirs: tuple[Path, Path, Path]) -> None:
    ws, _, _ = dirs
    write(ws / ".claude/commands/help.md", "not help")
    commands, notices = load_commands(ws, ["help", "status"])
    assert "help" not in {c.name for c in commands}
    assert any("/help is a built-in command" in n for n in notices)


def test_broken_frontmatter_is_all_body() -> None:
    metadata, body = split_frontmatter("---\n: [unclosed\n---\nhello")
    assert metadata == {} and "hello" in body


def test_skills_sorted_with_their_files_and_a_byte_stable_budgeted_list(
    dirs: tuple[Path, Path, Path],
) -> None:
    ws, home, xdg = dirs
    for index in range(40):
        write(
            ws / f".claude/skills/s{index:02}/SKILL.md",
            f"---\nname: skill-{index:02}\ndescription: thing {index} " + "x" * 80 + "\n---\nB",
        )
    write(ws / ".claude/skills/s00/helper.py", "print(1)\n")
    skills = discover_skills(ws, home=home, xdg=xdg)
    assert [s.name for s in skills] == sorted(s.name for s in skills)
    assert skills[0].extra_files == (ws.resolve() / ".claude/skills/s00/helper.py",)
    listing = skill_list(skills)
    assert listing == skill_list(discover_skills(ws, home=home, xdg=xdg))
    assert len(listing) <= LIST_BUDGET_CHARS + 80 and "more (ask for a skill by name)" in listing


class FakeEditorBuffers:
    """The Editor port in memory: one unsaved buffer."""

    supports_apply_edit = True

    def __init__(self, buffers: dict[Path, str]) -> None:
        self.buffers = buffers

    def snapshot(self, path: Path) -> BufferSnapshot | None:
        text = self.buffers.get(path)
        return BufferSnapshot(text, 3) if text is not None else None


def _sources(ws: Path, **extra: object) -> MentionSources:
    root = make_root(ws.as_uri())
    return MentionSources(Workspace([root]), root, FakeEditorBuffers({}), **extra)  # type: ignore[arg-type]


async def test_each_mention_kind_attaches_the_right_text(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(ws / "src/app.py", "".join(f"line {n}\n" for n in range(1, 61)))
    write(ws / "docs/guide.md", "guide\n")
    sources = _sources(
        ws,
        selection="picked text",
        diagnostics=[{"message": "bad", "range": {"start": {"line": 1, "character": 0}}}],
        session_answers=lambda sid: ["answer one"] if sid == "s1" else None,
    )
    prompt = "see @src/app.py:10-12, @docs/ @selection @diagnostics @session:s1 and @src/app.py."
    out = await expand_mentions(prompt, sources)
    kinds = [(a.kind, a.name) for a in out.attachments]
    assert kinds == [
        ("file", "src/app.py:10-12"),
        ("dir", "docs/"),
        ("selection", "selection"),
        ("diagnostics", "diagnostics"),
        ("session", "session:s1"),
        ("file", "src/app.py"),
    ]
    ranged = out.attachments[0]
    assert ranged.body.splitlines() == ["    10\tline 10", "    11\tline 11", "    12\tline 12"]
    assert "guide.md" in out.attachments[1].body and "picked text" in out.attachments[2].body
    assert out.notices == []


@pytest.mark.parametrize(
    "mention", ["@../outside.txt", "@/etc/passwd", "@~/.ssh/id_rsa", "@missing/file.py", "@.env"]
)
async def test_outside_missing_and_credential_mentions_stay_literal(
    tmp_path: Path, mention: str
) -> None:
    ws = tmp_path / "ws"
    write(ws / ".env", "TOKEN=1\n")
    write(tmp_path / "outside.txt", "SECRET\n")
    out = await expand_mentions(f"look at {mention} please", _sources(ws))
    assert out.attachments == [] and len(out.notices) == 1


async def test_prose_at_signs_and_emails_are_not_mentions(tmp_path: Path) -> None:
    names = mention_names("mail me@example.com, use @dataclass and @(weird) `@code`")
    assert "example.com" not in " ".join(names) and "dataclass" in names
    out = await expand_mentions("use @dataclass", _sources(tmp_path))
    assert out.attachments == [] and out.notices == []  # not path-like: silent


@given(st.text(alphabet="abcdef/._", min_size=1, max_size=12), st.text(max_size=30))
def test_fuzzy_score_matches_exactly_the_subsequences(query: str, candidate: str) -> None:
    it = iter(candidate.lower())
    is_subsequence = all(c in it for c in query.lower())
    assert (fuzzy_score(query, candidate) is not None) == is_subsequence
