"""PC rows: one confinement rule for every tool and every URI (unit level, real tools)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claw_lsp.edits.disk import write_changes_to_disk
from claw_lsp.foundation.ports import FileChange
from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import PathDenied, Workspace, make_root, uri_to_path
from tests.security.conftest import Harness


def denied(result: object) -> bool:
    return not result.ok and result.content.startswith("Error:")  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "..", "../outside/x"])
async def test_pc01_reads_outside_the_workspace_are_refused(harness: Harness, path: str) -> None:
    result = await harness.call("read_file", {"path": path})
    assert denied(result)
    assert "outside the workspace" in result.content
    assert "root:" not in result.content


async def test_pc02_tilde_is_a_literal_name_never_the_home_directory(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN PRIVATE KEY-----\n")
    monkeypatch.setenv("HOME", str(home))
    for path in ("~/.ssh/id_rsa", f"{home}/.ssh/id_rsa"):
        result = await harness.call("read_file", {"path": path})
        assert denied(result)
        assert "PRIVATE KEY" not in result.content


async def test_pc04_symlinked_file_pointing_out_is_never_followed(
    harness: Harness, ws: Path, outside: Path
) -> None:
    (ws / "link.txt").symlink_to(outside / "secret.txt")
    read = await harness.call("read_file", {"path": "link.txt"})
    assert denied(read) and "TOPSECRET" not in read.content
    grep = await harness.call("grep", {"pattern": "TOPSECRET"})
    assert grep.ok and "TOPSECRET" not in grep.content and "(no matches)" in grep.content
    grep_file = await harness.call("grep", {"pattern": "TOPSECRET", "path": "link.txt"})
    assert "TOPSECRET" not in grep_file.content
    glob = await harness.call("glob", {"pattern": "**/*"})
    assert "secret" not in glob.content
    listing = await harness.call("list_dir", {"path": "."})
    assert "link.txt@ (symlink, not followed)" in listing.content


async def test_pc05_symlinked_directory_pointing_out(
    harness: Harness, ws: Path, outside: Path
) -> None:
    (ws / "linkdir").symlink_to(outside, target_is_directory=True)
    glob = await harness.call("glob", {"pattern": "linkdir/*"})
    assert "secret.txt" not in glob.content
    glob_in = await harness.call("glob", {"pattern": "*", "path": "linkdir"})
    assert denied(glob_in)
    listing = await harness.call("list_dir", {"path": "linkdir"})
    assert denied(listing) and "secret.txt" not in listing.content
    write = await harness.call("write_file", {"path": "linkdir/new.txt", "content": "x"})
    assert denied(write)
    assert not (outside / "new.txt").exists()


@pytest.mark.parametrize(
    "arguments",
    [
        {"pattern": "../*/secret.txt"},
        {"pattern": "/etc/*"},
        {"pattern": "**/../../*"},
        {"pattern": "~/*"},
        {"pattern": "*", "path": "../outside"},
        {"pattern": "*", "path": "/etc"},
    ],
)
async def test_pc06_glob_patterns_cannot_leave_the_folder(
    harness: Harness, outside: Path, arguments: dict[str, str]
) -> None:
    result = await harness.call("glob", arguments)
    assert denied(result)
    assert "secret.txt" not in result.content and "passwd" not in result.content


async def test_pc06_grep_glob_filter_cannot_leave_the_folder(harness: Harness) -> None:
    result = await harness.call("grep", {"pattern": "root", "glob": "../../etc/*"})
    assert denied(result)


async def test_pc08_deepest_existing_ancestor_is_resolved_before_creating(
    harness: Harness, ws: Path, outside: Path
) -> None:
    (ws / "out").symlink_to(outside, target_is_directory=True)
    result = await harness.call("write_file", {"path": "out/newdir/x.py", "content": "x = 1\n"})
    assert denied(result) and "outside" in result.content
    assert not (outside / "newdir").exists()
    made = await harness.call("write_file", {"path": "fresh/deeper/x.py", "content": "x = 1\n"})
    assert made.ok and (ws / "fresh" / "deeper" / "x.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(
    "path", ["a\u0000b", "a\r\nb", "a\nb", "x" * 10_240, "", "   ", "dir/" + "y" * 300]
)
async def test_pc10_hostile_path_strings_are_clean_tool_errors(harness: Harness, path: str) -> None:
    for tool, arguments in (
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "x"}),
        ("list_dir", {"path": path}),
        ("grep", {"pattern": "x", "path": path}),
    ):
        result = await harness.call(tool, arguments)
        assert denied(result), (tool, result.content)
        assert "Traceback" not in result.content


@pytest.mark.parametrize(
    "uri",
    [
        "file:///ws/a%00b",
        "file://evilhost/share/x",
        "untitled:Untitled-1",
        "vscode-notebook-cell:/ws/nb.ipynb#W0sZmlsZQ%3D%3D",
        "https://example.com/x.py",
    ],
)
def test_pc10_pc11_uris_that_are_not_local_files_are_refused(ws: Path, uri: str) -> None:
    with pytest.raises(PathDenied):
        uri_to_path(uri)
    workspace = Workspace([make_root(ws.as_uri())])
    with pytest.raises(PathDenied):
        workspace.resolve_uri(uri)
    assert workspace.root_for_uri(uri) is None


def test_pc11_percent_encoding_is_decoded_before_confinement(ws: Path) -> None:
    workspace = Workspace([make_root(ws.as_uri())])
    assert workspace.resolve_uri(ws.as_uri() + "/my%20file.py").relative == "my file.py"
    with pytest.raises(PathDenied):
        workspace.resolve_uri(ws.as_uri() + "/%2E%2E/%2E%2E/etc/passwd")
    # A sibling folder that shares the root's name as a prefix is outside (whole components).
    sibling = ws.parent / (ws.name + "-evil")
    sibling.mkdir()
    with pytest.raises(PathDenied):
        workspace.resolve_uri(sibling.as_uri() + "/x")
    with pytest.raises(PathDenied):
        workspace.resolve(str(sibling / "x"))


PROTECTED_TARGETS = [
    ".git/config",
    ".git/hooks/post-checkout",
    ".claw/settings.json",
    ".vscode/settings.json",
    ".idea/workspace.xml",
    ".github/workflows/ci.yml",
    ".envrc",
    "sub/.envrc",
    "Makefile",
    "package.json",
    ".husky/pre-commit",
]


@pytest.mark.parametrize("target", PROTECTED_TARGETS)
async def test_pc13_pt11_protected_paths_ask_per_change_even_at_write_tier(
    harness: Harness, ws: Path, target: str
) -> None:
    result = await harness.call("write_file", {"path": target, "content": "pwned\n"}, "deny")
    assert denied(result) and "declined" in result.content
    assert not (ws / target).exists()  # never written before (or without) the approval
    (request,) = harness.approver.requests
    assert request.allow_session is False  # per change: no "allow for session"
    assert target in request.subject
    approved = await harness.call("write_file", {"path": target, "content": "ok\n"}, "once")
    assert approved.ok and (ws / target).read_text() == "ok\n"
    again = await harness.call(
        "edit_file", {"path": target, "old_text": "ok", "new_text": "again"}, "deny"
    )
    assert denied(again) and len(harness.approver.requests) == 3
    assert (ws / target).read_text() == "ok\n"


async def test_pc13_a_git_pointer_file_protects_its_gitdir(harness: Harness, ws: Path) -> None:
    gitdir = ws / "vendor" / "gitdata"
    (gitdir / "hooks").mkdir(parents=True)
    (ws / ".git").write_text("gitdir: vendor/gitdata\n")
    for target in ("vendor/gitdata/hooks/post-checkout", "vendor/gitdata/config", ".git"):
        result = await harness.call("write_file", {"path": target, "content": "x"}, "deny")
        assert denied(result), target
        assert "protected" in harness.approver.requests[-1].reason
    assert not (gitdir / "config").exists()


async def test_pc13_protected_paths_need_approval_without_an_interactive_user(
    ws: Path, tmp_path: Path
) -> None:
    harness = Harness([ws], state_dir=tmp_path / "state", tier=Tier.SHELL, approvals="deny")
    result = await harness.call("write_file", {"path": ".git/config", "content": "x"})
    assert denied(result) and not harness.approver.requests
    assert not (ws / ".git").exists()


async def test_pc13_the_state_directory_and_user_config_are_protected(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(ws / ".config"))
    harness = Harness([ws], state_dir=ws / "state", tier=Tier.WRITE)
    for target in ("state/folders/x.jsonl", ".config/claw-lsp/config.toml"):
        result = await harness.call("write_file", {"path": target, "content": "x"}, "deny")
        assert denied(result), target
    assert not (ws / ".config" / "claw-lsp").exists() and not (ws / "state").exists()


async def test_pc13_user_protected_list_comes_from_user_settings(ws: Path, tmp_path: Path) -> None:
    harness = Harness(
        [ws], state_dir=tmp_path / "state", tier=Tier.WRITE, protected_paths=("deploy/*",)
    )
    result = await harness.call("write_file", {"path": "deploy/prod.sh", "content": "x"}, "deny")
    assert denied(result) and harness.approver.requests


async def test_pc14_a_removed_folder_is_refused_immediately(tmp_path: Path) -> None:
    folder_a, folder_b = tmp_path / "A", tmp_path / "B"
    folder_a.mkdir()
    folder_b.mkdir()
    harness = Harness([folder_b, folder_a], state_dir=tmp_path / "state", tier=Tier.WRITE)
    assert harness.ctx.root.real_path == folder_b.resolve()  # this "turn" works in B
    harness.workspace.remove(folder_b.as_uri())
    for path in (str(folder_b / "x"), "x"):
        result = await harness.call("write_file", {"path": path, "content": "x"})
        assert denied(result), path
    shell = await harness.call("shell", {"command": "touch x"}, "once")
    assert denied(shell)
    assert not (folder_b / "x").exists() and not (folder_a / "x").exists()


@pytest.mark.parametrize("cwd", ["/", "../..", "/etc"])
async def test_pc15_the_model_cannot_choose_the_shell_cwd(
    ws: Path, tmp_path: Path, cwd: str
) -> None:
    harness = Harness([ws], state_dir=tmp_path / "state", tier=Tier.SHELL)
    result = await harness.call("shell", {"command": "ls", "cwd": cwd}, "once")
    assert denied(result) and "cwd" in result.content and not harness.approver.requests
    shell = harness.orchestrator.toolbox.get("shell")
    assert shell is not None
    access = shell.plan(shell.validate({"command": "pwd"}), harness.ctx)
    assert access.cwd == ws.resolve()


async def test_pc17_a_symlinked_workspace_is_canonicalised_once(tmp_path: Path) -> None:
    real = tmp_path / "data" / "ws"
    real.mkdir(parents=True)
    (real / "a.py").write_text("a = 1\n")
    link = tmp_path / "home-ws"
    link.symlink_to(real, target_is_directory=True)
    harness = Harness([link], state_dir=tmp_path / "state", tier=Tier.WRITE)
    assert len(harness.workspace.roots) == 1
    for path in ("a.py", str(link / "a.py"), str(real / "a.py")):
        result = await harness.call("read_file", {"path": path})
        assert result.ok and "a = 1" in result.content, path
    target = harness.workspace.resolve("b.py")
    assert target.uri == (link / "b.py").as_uri()  # the editor's own spelling
    harness.workspace.add(make_root(real.as_uri()))
    assert len(harness.workspace.roots) == 1  # no double roots


def test_pc_race_a_directory_swapped_for_a_symlink_after_the_check(ws: Path, outside: Path) -> None:
    (ws / "sub").mkdir()
    workspace = Workspace([make_root(ws.as_uri())])
    target = workspace.resolve("sub/new.txt")  # the check passes: sub is a real directory
    (ws / "sub").rmdir()
    (ws / "sub").symlink_to(outside, target_is_directory=True)  # swapped in after the check
    change = FileChange(target.path, target.uri, None, "pwned\n", None, "test")
    result = write_changes_to_disk([change])
    assert result.applied is False
    assert not (outside / "new.txt").exists()
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_pc_race_a_final_name_swapped_for_a_symlink_is_replaced_not_followed(
    ws: Path, outside: Path
) -> None:
    workspace = Workspace([make_root(ws.as_uri())])
    target = workspace.resolve("victim.txt")
    (ws / "victim.txt").symlink_to(outside / "secret.txt")
    change = FileChange(target.path, target.uri, None, "pwned\n", None, "test")
    assert write_changes_to_disk([change]).applied is False
    assert (outside / "secret.txt").read_text().startswith("TOPSECRET")
    undo = FileChange(target.path, target.uri, None, "", None, "undo", delete=True)
    assert write_changes_to_disk([undo]).applied is True
    assert (outside / "secret.txt").exists()  # a link at the name is not ours to delete
