"""Issue 13, rule 1: one protected-path rule for the write tools, the shell check and the sandbox.

The shell cases are checked against what each command really does: every (protected target,
shell write form) pair is run once in a scratch copy, and whenever it really writes a protected
path, the decision taken before it ran must not have been `allow`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.paths import Workspace, make_root
from claw_lsp.permissions.protected import PLACEHOLDER_DIRS, PLACEHOLDER_FILES
from tests.security.conftest import Harness, needs_bwrap
from tests.security.hostile import (
    HOME_PROTECTED,
    PROTECTED,
    PROTECTED_SAMPLE,
    build_scratch,
    changed,
    protected_changes,
    run_plain,
    shell_decision,
    shell_forms,
    snapshot,
)

SHELL_CASES = [(target, form) for target in PROTECTED_SAMPLE for form in shell_forms(target)]


@pytest.mark.parametrize("relative", PROTECTED)
def test_rule1_every_protected_name_is_protected_by_the_one_rule(
    relative: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    workspace = Workspace([make_root(root.as_uri())])
    assert workspace.protected_reason(workspace.resolve(relative)), relative
    parent = relative.rpartition("/")[0]
    if parent:
        (root / parent).mkdir(parents=True, exist_ok=True)
    assert shell_decision(f"touch {shlex.quote(relative)}", root) == ("ask", False)


@pytest.mark.parametrize("relative", PROTECTED)
async def test_rule1_write_tools_never_write_a_protected_path_unasked(
    relative: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL, approvals="deny")
    result = await harness.call("write_file", {"path": relative, "content": "evil\n"})
    assert not result.ok and "protected" in result.content, result.content
    assert not os.path.lexists(root / relative)


@pytest.mark.parametrize(("target", "form"), SHELL_CASES)
def test_rule1_no_shell_form_writes_a_protected_path_without_asking(
    target: str, form: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    build_scratch(root, target)
    asked = shell_decision(form, root)
    refused = shell_decision(form, root, approvals="deny")
    before = snapshot(root)
    run_plain(form, root)
    written = protected_changes(changed(before, snapshot(root)))
    if written:
        assert asked == ("ask", False), (form, written, asked)
        assert refused[0] == "deny", (form, written)


def test_rule1_the_shell_cases_really_write_protected_paths(tmp_path: Path) -> None:
    """Guards the test above against passing vacuously: most forms do write the target."""
    writing = 0
    for index, (target, form) in enumerate(SHELL_CASES[::7]):
        root = tmp_path / f"ws{index}"
        build_scratch(root, target)
        before = snapshot(root)
        run_plain(form, root)
        writing += bool(protected_changes(changed(before, snapshot(root))))
    assert writing >= len(SHELL_CASES[::7]) * 2 // 3


@pytest.mark.parametrize("relative", HOME_PROTECTED)
async def test_rule1_home_dotfiles_are_protected_when_home_is_a_workspace_folder(
    relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    harness = Harness([home], state_dir=tmp_path / "state", tier=Tier.SHELL, approvals="deny")
    result = await harness.call("write_file", {"path": relative, "content": "evil\n"})
    assert not result.ok and not os.path.lexists(home / relative), result.content
    assert shell_decision(f"mkdir -p x && cp x {relative}", home)[0] == "ask"
    inside = tmp_path / "home-as-parent"
    (inside / "me").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(inside / "me"))
    parent = Workspace([make_root(inside.as_uri())])
    assert parent.protected_reason(parent.resolve(f"me/{relative}"))


async def test_rule1_dotfiles_are_ordinary_when_home_is_not_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: a project's own `bin/` or `.profile` is not the user's login shell."""
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    root = tmp_path / "ws"
    root.mkdir()
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.WRITE, approvals="deny")
    result = await harness.call("write_file", {"path": "bin/tool.sh", "content": "x\n"})
    assert result.ok, result.content


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.parametrize(
    ("layout", "target"),
    [
        ("gitdir", ".bare/config"),
        ("gitdir", ".bare/hooks/post-checkout"),
        ("hookspath", "team-hooks/pre-commit"),
        ("hookspath", "team-hooks"),
        ("bare-shape", "mirror/config"),
        ("bare-shape", "mirror/hooks/pre-receive"),
        ("worktree", "main-repo/.git/worktrees/wt/config"),
    ],
)
async def test_rule1_the_git_directories_the_repository_uses_are_protected(
    layout: str, target: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    if layout == "gitdir":
        _git("init", "-q", "--bare", ".bare", cwd=root)
        (root / ".git").write_text("gitdir: ./.bare\n")
    elif layout == "hookspath":
        _git("init", "-q", cwd=root)
        _git("config", "core.hooksPath", "team-hooks", cwd=root)
    elif layout == "bare-shape":
        (root / "mirror" / "objects").mkdir(parents=True)
        (root / "mirror" / "refs").mkdir()
        (root / "mirror" / "HEAD").write_text("ref: refs/heads/main\n")
    else:
        main = root / "main-repo"
        main.mkdir()
        _git("init", "-q", cwd=main)
        _git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty",
             "-m", "x", cwd=main)  # fmt: skip
        _git("worktree", "add", "-q", str(root / "wt"), cwd=main)
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL, approvals="deny")
    result = await harness.call("write_file", {"path": target, "content": "x\n"})
    assert not result.ok and "protected" in result.content, result.content
    assert shell_decision(f"mkdir -p sub && cp /dev/null {target}", root)[0] == "ask"


@needs_bwrap
async def test_rule1_the_sandbox_keeps_missing_and_existing_protected_paths_unwritten(
    tmp_path: Path,
) -> None:
    """An approved command that runs arbitrary code still cannot create or change them."""
    root = tmp_path / "ws"
    root.mkdir()
    _git("init", "-q", cwd=root)
    (root / "Makefile").write_text("all:\n\t@echo real\n")
    (root / ".vscode").mkdir()
    (root / ".vscode" / "settings.json").write_text("{}\n")
    names = [*PLACEHOLDER_DIRS, *PLACEHOLDER_FILES, "GNUmakefile", "makefile", "Makefile",
             ".git/config", ".git/hooks/pre-commit", ".vscode/settings.json"]  # fmt: skip
    script = (
        "import os,sys\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        if os.path.isdir(name) and not name.endswith('.json'):\n"
        "            name = os.path.join(name, 'planted')\n"
        "        with open(name, 'a') as f: f.write('evil')\n"
        "        print('WROTE', name)\n"
        "    except OSError as e: print('refused', name, e.strerror)\n"
    )
    (root / "plant.py").write_text(script)
    before = snapshot(root)
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL)
    result = await harness.call("shell", {"command": "/usr/bin/python3 plant.py"}, "once")
    assert "sandboxed" in result.content and "WROTE" not in result.content, result.content
    assert changed(before, snapshot(root)) == set(), "placeholders or writes were left behind"


@needs_bwrap
@pytest.mark.parametrize(
    ("layout", "target"),
    [
        ("gitdir", ".bare/config"),
        ("gitdir", ".bare/hooks/post-checkout"),
        ("hookspath", "team-hooks/pre-commit"),
        ("hookspath-missing", "team-hooks/pre-commit"),
        ("bare-shape", "mirror/config"),
        ("hardlink", "vendor/b.js"),
    ],
)
async def test_rule1_the_sandbox_protects_the_git_directories_the_repository_uses(
    layout: str, target: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    if layout == "gitdir":
        _git("init", "-q", "--bare", ".bare", cwd=root)
        (root / ".git").write_text("gitdir: ./.bare\n")
    elif layout.startswith("hookspath"):
        _git("init", "-q", cwd=root)
        _git("config", "core.hooksPath", "team-hooks", cwd=root)
        if layout == "hookspath":
            (root / "team-hooks").mkdir()
    elif layout == "bare-shape":
        _git("init", "-q", "--bare", "mirror", cwd=root)
    else:
        store = tmp_path / "store"
        store.mkdir()
        (store / "b.js").write_text("original\n")
        (root / "vendor").mkdir()
        os.link(store / "b.js", root / "vendor" / "b.js")
    before = snapshot(root)
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL)
    code = (
        f"import os; os.makedirs(os.path.dirname({target!r}), exist_ok=True);"
        f" open({target!r}, 'a').write('evil')"
    )
    result = await harness.call(
        "shell", {"command": f"/usr/bin/python3 -c {shlex.quote(code)}"}, "once"
    )
    assert "sandboxed" in result.content and "Error" in result.content, result.content
    assert changed(before, snapshot(root)) == set()


@pytest.mark.parametrize("tool", ["write_file", "edit_file"])
async def test_a_hard_linked_file_is_changed_only_when_asked(tool: str, tmp_path: Path) -> None:
    """A hard link inside the workspace to a file outside it: an editor saving in place would
    change the outside file, so the change is asked for per change at every tier below unsafe."""
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("original\n")
    os.link(outside, root / "linked.txt")
    harness = Harness([root], state_dir=tmp_path / "state", tier=Tier.SHELL, approvals="deny")
    arguments = (
        {"path": "linked.txt", "content": "evil\n"}
        if tool == "write_file"
        else {"path": "linked.txt", "old_text": "original", "new_text": "evil"}
    )
    assert (await harness.call("read_file", {"path": "linked.txt"})).ok
    result = await harness.call(tool, arguments)
    assert not result.ok and "hard links" in result.content, result.content
    assert outside.read_text() == "original\n"
    (root / "plain.txt").write_text("original\n")
    assert (await harness.call("read_file", {"path": "plain.txt"})).ok
    plain = dict(arguments, path="plain.txt")
    assert (await harness.call(tool, plain)).ok
