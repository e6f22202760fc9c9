"""Issue 13, rule 2: the read-only tier never runs a program the repository chose.

Git runs with forced configuration, and a repository whose git config names a program makes
git commands ask; commands that follow symlinks or read file lists are vetted for what they
read; at read-only tier the sandbox mounts the workspace read-only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.git_facts import repo_facts
from tests.security.conftest import Harness, needs_bwrap
from tests.security.hostile import GIT_PROGRAM_CONFIG, shell_decision

READ_GIT = ["git diff", "git status", "git log -p -1", "git show", "git blame a.txt",
            "git grep x", "git --no-pager diff HEAD", "git ls-files", "git branch -a"]  # fmt: skip


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / "a.txt").write_text("one\n")
    (root / ".gitattributes").write_text("* diff=evil filter=evil merge=evil\n")
    git("add", ".", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one", cwd=root)
    (root / "a.txt").write_text("two\n")
    return root


def test_rule2_a_plain_repository_runs_read_only_git_without_asking(repo: Path) -> None:
    for command in READ_GIT:
        assert shell_decision(command, repo, tier=Tier.READ_ONLY)[0] == "allow", command


@pytest.mark.parametrize(("section", "key", "value"), GIT_PROGRAM_CONFIG)
@pytest.mark.parametrize("where", ["config", "include", "worktree-config"])
def test_rule2_git_asks_when_the_repository_config_names_a_program(
    repo: Path, section: str, key: str, value: str, where: str
) -> None:
    text = f"[{section}]\n\t{key} = {value}\n"
    if where == "config":
        with (repo / ".git" / "config").open("a") as config:
            config.write(text)
    elif where == "include":
        (repo / "included.cfg").write_text(text)  # a file the model could write itself
        git("config", "include.path", "../included.cfg", cwd=repo)
    else:
        git("config", "extensions.worktreeConfig", "true", cwd=repo)
        (repo / ".git" / "config.worktree").write_text(text)
    assert repo_facts(repo).program_keys, "git did not report the key"
    for command in READ_GIT:
        action, _ = shell_decision(command, repo, tier=Tier.READ_ONLY)
        assert action == "ask", (command, section, key)
        assert shell_decision(command, repo, tier=Tier.READ_ONLY, approvals="deny")[0] == "deny"
    assert not (repo / "ran").exists()


@pytest.mark.parametrize("included", ["garbage", "fifo", "directory"])
def test_rule2_a_configuration_git_cannot_list_is_not_judged_safe(
    repo: Path, included: str
) -> None:
    target = repo / "inc"
    if included == "garbage":
        target.write_bytes(b"\x00\xff[[[ not = config\n")
    elif included == "fifo":
        os.mkfifo(target)  # git would block reading it
    else:
        target.mkdir()
    git("config", "include.path", "../inc", cwd=repo)
    for command in READ_GIT[:3]:
        assert shell_decision(command, repo, tier=Tier.READ_ONLY)[0] == "ask", (included, command)


@needs_bwrap
@pytest.mark.parametrize(
    ("section", "key", "command"),
    [
        ("core", "fsmonitor", "git status"),
        ("core", "hooksPath", "git -c user.name=t -c user.email=t@e commit -qam two"),
        ("core", "pager", "git log -1"),
        ("core", "editor", "git -c user.name=t -c user.email=t@e commit -qa"),
        ("sequence", "editor", "git stash -q && git rebase -qi HEAD"),
    ],
)
async def test_rule2_forced_configuration_holds_even_when_the_user_approves(
    repo: Path, tmp_path: Path, section: str, key: str, command: str
) -> None:
    """What git's forced configuration neutralises does not run, approved or not."""
    marker = tmp_path / "outside-marker"
    hook_dir = repo / "evilhooks"
    hook_dir.mkdir()
    for hook in ("pre-commit", "post-commit", "commit-msg"):
        (hook_dir / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hook_dir / hook).chmod(0o755)
    (repo / ".git" / "hooks" / "pre-commit").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (repo / ".git" / "hooks" / "pre-commit").chmod(0o755)
    value = "evilhooks" if key == "hooksPath" else f"sh -c 'touch {marker}'"
    git("config", f"{section}.{key}", value, cwd=repo)
    harness = Harness([repo], state_dir=tmp_path / "state", tier=Tier.UNSAFE)
    await harness.call("shell", {"command": command})
    assert not marker.exists(), f"{section}.{key} ran with {command}"


@needs_bwrap
async def test_rule2_a_bare_shaped_directory_is_never_used_implicitly(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    bare = root / "docs"
    bare.mkdir(parents=True)
    git("init", "-q", "--bare", ".", cwd=bare)
    marker = root / "ran"
    git("config", "core.fsmonitor", f"touch {marker}", cwd=bare)
    git("config", "diff.external", f"sh -c 'touch {marker}'", cwd=bare)
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL)
    for command in ("cd docs && git status", "cd docs && git diff", "cd docs && git log"):
        await harness.call("shell", {"command": command}, "once")
    assert not marker.exists()


@needs_bwrap
async def test_rule2_the_read_only_tier_mounts_the_workspace_read_only(
    repo: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in repo.iterdir())
    harness = Harness([repo], state_dir=tmp_path / "state", tier=Tier.READ_ONLY)
    result = await harness.call(
        "shell", {"command": "touch new.txt; echo x >> a.txt; rm -f a.txt"}, "once"
    )
    assert "workspace read-only" in result.content and "Read-only file system" in result.content
    assert sorted(p.name for p in repo.iterdir()) == before
    assert (repo / "a.txt").read_text() == "two\n"


# --- readers: what they read beyond their operands -------------------------------------------

FOLLOWING_READERS = [
    "grep -R TOPSECRET .", "grep -R TOPSECRET", "grep --dereference-recursive TOPSECRET src",
    "grep -Rn TOPSECRET src", "egrep -R TOPSECRET .", "rg -L TOPSECRET", "rg --follow TOPSECRET",
    "find -L . -name '*.txt'", "find . -follow -name x", "du -L -a .", "du --dereference -a",
    "tree -l", "ls -LR", "ls -R -L src", "diff -r src other",
]  # fmt: skip
FILE_LIST_READERS = [
    "sort --files0-from=list", "sort --files0-from list", "wc --files0-from=list",
    "wc -c --files0-from=list", "du --files0-from=list", "sort --files0-fr=list",
    "find . -files0-from list", "xargs cat < names", "cat names | xargs cat",
    "find . -print0 | wc --files0-from=-", "tr '\\n' '\\0' < names | sort --files0-from=-",
]  # fmt: skip


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A workspace whose symlinks and file lists point at the user's claw config."""
    config = tmp_path / "xdg" / "claw-lsp"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('api_key = "sk-TOPSECRET-KEY"\n')
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "other").mkdir()
    (root / "src" / "ok.txt").write_text("fine\n")
    (root / "src" / "cfg").symlink_to(config)
    (root / "other" / "ok.txt").write_text("fine\n")
    (root / "list").write_bytes(f"src/ok.txt\0{config}/config.toml\0".encode())
    (root / "names").write_text(f"{config}/config.toml\n")
    return root


@pytest.mark.parametrize("command", FOLLOWING_READERS + FILE_LIST_READERS)
def test_rule2_readers_that_follow_symlinks_or_read_lists_are_vetted(
    hostile: Path, command: str
) -> None:
    assert shell_decision(command, hostile, tier=Tier.READ_ONLY)[0] == "ask", command


@pytest.mark.parametrize("command", FOLLOWING_READERS[:-1] + FILE_LIST_READERS[:6])
def test_rule2_the_same_readers_run_when_nothing_leads_outside(hostile: Path, command: str) -> None:
    (hostile / "src" / "cfg").unlink()
    (hostile / "src" / "cfg").symlink_to(hostile / "other")  # a link that stays inside
    (hostile / "list").write_bytes(b"src/ok.txt\0other/ok.txt\0")
    assert shell_decision(command, hostile, tier=Tier.READ_ONLY)[0] == "allow", command
