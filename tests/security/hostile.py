"""Shared instances for the hostile-repository tests (issue 13): protected names, shell write
forms, programs git runs from repository config. Each list is an instance of one rule; the
tests iterate over all of them."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

from claw_lsp.foundation.tiers import Tier
from claw_lsp.permissions.policy import CallFacts, SessionGrants, decide
from claw_lsp.permissions.protected import static_reason
from claw_lsp.permissions.rules import PermissionRules

# Rule 1: things an editor, another agent, CI, a package manager, git or a login shell runs or
# loads. Relative to a workspace folder; nested ones too (the rule holds at every depth).
PROTECTED = [
    # git and hook managers
    ".git/config", ".git/hooks/pre-commit", ".git", ".gitmodules", ".gitattributes",
    ".lfsconfig", ".husky/pre-commit", ".githooks/pre-push", ".pre-commit-config.yaml",
    "lefthook.yml", "lefthook.yaml", ".lefthook.yml", "lefthook.json", ".lefthook/x.sh",
    ".lintstagedrc.json", "sub/.git", "vendor/lib/.git/config", ".hg/hgrc",
    # editors and dev environments
    ".vscode/settings.json", ".vscode/tasks.json", ".vscode/mcp.json", ".idea/workspace.xml",
    ".devcontainer/devcontainer.json", ".devcontainer.json", "app.code-workspace",
    "proj.sublime-project", ".zed/settings.json", ".nvim.lua", ".nvimrc", ".exrc", ".lazy.lua",
    ".dir-locals.el", ".helix/config.toml", ".fleet/settings.json", ".gitpod.yml",
    # coding agents
    ".claw/settings.json", ".claude/settings.json", ".claude/commands/x.md", ".mcp.json",
    ".cursor/mcp.json", ".cursor/rules/x.mdc", ".cursorrules", ".windsurfrules",
    ".windsurf/rules/x.md", ".codex/config.toml", ".gemini/settings.json", ".continue/c.json",
    "AGENTS.md", "CLAUDE.md", "sub/AGENTS.md", "GEMINI.md", ".clinerules", ".clawrules",
    ".aider.conf.yml",
    # CI
    ".github/workflows/ci.yml", ".github/actions/a/action.yml", "action.yml", "action.yaml",
    ".github/CODEOWNERS", ".gitlab-ci.yml", ".circleci/config.yml", ".travis.yml",
    "azure-pipelines.yml", "Jenkinsfile", "bitbucket-pipelines.yml", ".drone.yml",
    ".buildkite/pipeline.yml", ".woodpecker.yml",
    # package managers and build tools
    "package.json", "web/package.json", ".npmrc", ".yarnrc", ".yarnrc.yml",
    ".yarn/plugins/p.cjs", ".pnpmfile.cjs", "bunfig.toml", "setup.py", "pyproject.toml",
    "Makefile", "makefile", "GNUmakefile", "sub/Makefile", "justfile", "Taskfile.yml",
    "Rakefile", "Gemfile", "x.gemspec", "Cargo.toml", "build.rs", ".cargo/config.toml",
    "build.gradle", "settings.gradle.kts", "gradle/wrapper/gradle-wrapper.properties",
    "gradlew", "pom.xml", ".mvn/extensions.xml", "Package.swift", "mix.exs", "composer.json",
    "CMakeLists.txt", "Vagrantfile",
    # direnv and environment managers
    ".envrc", "sub/.envrc", ".mise.toml", "mise.toml", ".tool-versions", "flake.nix",
    "shell.nix", "devbox.json",
    # spellings a case-insensitive filesystem folds onto the same names
    ".GIT/config", ".VSCode/settings.json", "MAKEFILE", ".git\u200c/config", ".envrc.",
]  # fmt: skip

# Home dotfiles when the home folder itself is a workspace folder (relative to $HOME).
HOME_PROTECTED = [
    ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zshenv", ".gitconfig",
    ".ssh/authorized_keys", ".ssh/config", ".config/systemd/user/x.service",
    ".config/autostart/x.desktop", ".local/bin/git", ".local/share/applications/x.desktop",
    ".config/fish/config.fish", ".pam_environment", "bin/ls", ".xprofile", ".npmrc",
    ".config/git/config", ".docker/config.json", ".kube/config",
]  # fmt: skip

# A sample of PROTECTED for the expensive cross products (every category represented).
PROTECTED_SAMPLE = [
    ".git/hooks/pre-commit", ".gitattributes", "lefthook.yaml", ".husky/pre-commit",
    ".vscode/settings.json", ".devcontainer/devcontainer.json", "app.code-workspace",
    ".zed/settings.json", ".nvim.lua", ".mcp.json", ".cursor/mcp.json", ".claude/settings.json",
    "AGENTS.md", ".github/workflows/ci.yml", "action.yml", ".gitlab-ci.yml", "package.json",
    ".npmrc", ".yarnrc.yml", "Makefile", "sub/Makefile", "pyproject.toml", ".envrc",
    "sub/.git",
]  # fmt: skip


def shell_forms(target: str) -> list[str]:
    """Shell spellings of 'write `target`' (each is checked against what it really writes)."""
    parent, _, name = target.rpartition("/")
    mkdir = f"mkdir -p {parent} && " if parent else ""
    up = "../" * (parent.count("/") + 1)
    forms = [
        f"{mkdir}cp src.txt {target}",
        f"{mkdir}mv src.txt {target}",
        f"{mkdir}cp src.txt {target}.tmp && mv {target}.tmp {target}",
        f"{mkdir}touch {target}",
        f"{mkdir}echo x > {target}",
        f"{mkdir}echo x >> {target}",
        f"{mkdir}printf x | tee {target}",
        f"{mkdir}cat src.txt | tee -a {target} > /dev/null",
        f"install -D src.txt {target}",
        f"{mkdir}ln -s src.txt {target}",
        f"{mkdir}dd if=src.txt of={target}",
        f"{mkdir}truncate -s 0 {target}",
        f"{mkdir}cp src.txt {{x,{target}}}",
        f"{mkdir}cp src.txt {target[:-1]}?",
        f"{mkdir}cp src.txt ./sub/../{target}",
        f"mkdir -p {parent or '.'} && cp -t {parent or '.'} src.txt && mv {parent or '.'}/src.txt"
        f" {target}",
        "cp -r payload/. .",
        "cp -R payload/* .",
        "cp -a payload/. ./",
        "rsync -a payload/ .",
        "tar -xf payload.tar",
        "tar xf payload.tar",
        "tar -x -f payload.tar -C .",
        "mv payload/* .",
        f"{mkdir}sed -i s/a/b/ {target}",
        f"{mkdir}chmod +x {target}",
        f"{{ echo x; }} > {target}",
        f"(echo x) > {target}",
    ]
    if parent:
        forms.append(f"mkdir -p {parent} && cd {parent} && cp {up}src.txt {name}")
    return forms


def build_scratch(root: Path, target: str) -> None:
    """src.txt, sub/, a payload tree holding `target`, and the same tree as payload.tar."""
    (root / "sub").mkdir(parents=True)
    (root / "src.txt").write_text("payload a\n")
    landing = root / "payload" / target
    landing.parent.mkdir(parents=True, exist_ok=True)
    landing.write_text("payload a\n")
    with tarfile.open(root / "payload.tar", "w") as archive:
        for entry in sorted((root / "payload").iterdir()):
            archive.add(entry, arcname=entry.name)


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under `root` with what identifies its content."""
    found: dict[str, tuple[object, ...]] = {}
    for path in [root, *root.rglob("*")]:
        status = path.lstat()
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", status.st_mode)
        else:
            found[relative] = ("file", path.read_bytes(), status.st_mode)
    return found


def changed(
    before: dict[str, tuple[object, ...]], after: dict[str, tuple[object, ...]]
) -> set[str]:
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k) and k != "."}


def run_plain(command: str, cwd: Path) -> None:
    """Runs a command of the test grammar for its effects (inside bwrap, only `cwd` writable,
    no protection: the point is to learn what the command really writes)."""
    from claw_lsp.permissions.sandbox import probe_sandbox, sandbox_argv
    from claw_lsp.permissions.sandbox_plan import SandboxPlan

    status = probe_sandbox()
    if status.available and status.bwrap:
        argv = sandbox_argv(command, bwrap=status.bwrap, cwd=cwd, plan=SandboxPlan(writable=[cwd]))
    else:
        argv = ["/bin/bash", "-c", command]
    subprocess.run(argv, cwd=cwd, capture_output=True, timeout=60, check=False)


def protected_changes(paths: set[str]) -> set[str]:
    return {p for p in paths if static_reason(p)}


def shell_decision(command: str, ws: Path, *, tier: Tier = Tier.SHELL, approvals: str = "ask",
                   roots: tuple[Path, ...] = ()) -> tuple[str, bool]:  # fmt: skip
    facts = CallFacts(
        kind="shell",
        tool="shell",
        command=command,
        cwd=str(ws),
        workspace_roots=tuple(str(r) for r in (roots or (ws,))),
    )
    decision = decide(
        facts,
        tier=tier,
        approvals=approvals,
        rules=PermissionRules.from_config({"allow": ["shell(cp *)", "shell(mv *)"]}),
        grants=SessionGrants(),
        sandboxed=True,
    )
    return decision.action, decision.allow_session


# Rule 2: repository configuration that makes git run a program (one value per key kind).
GIT_PROGRAM_CONFIG = [
    ("diff", "external", "sh -c 'touch ran'"),
    ('diff "evil"', "textconv", "sh -c 'touch ran' --"),
    ('diff "evil"', "command", "sh -c 'touch ran'"),
    ('filter "evil"', "clean", "sh -c 'touch ran'"),
    ('filter "evil"', "smudge", "sh -c 'touch ran'"),
    ('filter "evil"', "process", "sh -c 'touch ran'"),
    ('merge "evil"', "driver", "sh -c 'touch ran'"),
    ("core", "fsmonitor", "sh -c 'touch ran'"),
    ("core", "hooksPath", "evilhooks"),
    ("core", "sshCommand", "sh -c 'touch ran'"),
    ("core", "askPass", "./askpass"),
    ("core", "pager", "sh -c 'touch ran'"),
    ("core", "editor", "sh -c 'touch ran'"),
    ("core", "worktree", "/tmp"),
    ("core", "gitProxy", "./proxy"),
    ("core", "alternateRefsCommand", "./refs"),
    ("credential", "helper", "!sh -c 'touch ran'"),
    ('credential "https://x"', "helper", "./helper"),
    ("gpg", "program", "./gpg"),
    ('gpg "ssh"', "program", "./gpg"),
    ('gpg "ssh"', "defaultKeyCommand", "./key"),
    ("pager", "log", "sh -c 'touch ran'"),
    ("alias", "st", "!sh -c 'touch ran'"),
    ('remote "origin"', "uploadpack", "./up"),
    ('remote "origin"', "receivepack", "./rp"),
    ('remote "origin"', "vcs", "evil"),
    ('protocol "ext"', "allow", "always"),
    ("sequence", "editor", "./ed"),
    ('difftool "x"', "cmd", "./dt"),
    ('mergetool "x"', "cmd", "./mt"),
    ("diff", "tool", "x"),
    ("merge", "tool", "x"),
    ("web", "browser", "./b"),
    ('browser "x"', "cmd", "./b"),
    ('man "x"', "cmd", "./m"),
    ("sendemail", "smtpServer", "./smtp"),
    ('trailer "x"', "command", "./t"),
    ('lfs "customtransfer.x"', "path", "./t"),
    ('submodule "x"', "update", "!sh -c 'touch ran'"),
    ("uploadpack", "packObjectsHook", "./hook"),
]
