"""The protected-path rule: one definition for the write tools, the shell check and the sandbox.

A path is protected when something other than the agent runs or loads it later, without the
user deciding to run that file: an editor opening the folder, another coding agent starting a
session, CI, a package manager or build tool, git, a login shell. A change there is a delayed
command, so it needs the user's approval for that change at every tier below `unsafe`.

The static part lives here as data (names that are protected wherever they appear, grouped by
who loads them). The dynamic part needs the filesystem: the git directory a `.git` file or the
repository's configuration points to, `core.hooksPath`, directories shaped like a git
repository, and the home folder's dotfiles when the home folder is (inside) a workspace folder.
"""

from __future__ import annotations

import fnmatch
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

# Directory names protected wherever they are a path component (compared case-insensitively).
PROTECTED_DIR_NAMES = frozenset(
    {
        # version control internals and git hook managers
        ".git", ".hg", ".svn", ".jj", ".githooks", ".husky", ".lefthook",
        # editors and dev environments that read settings, tasks or commands on open
        ".vscode", ".idea", ".fleet", ".zed", ".nova", ".theia", ".helix", ".devcontainer",
        ".idx", ".config",
        # coding agents: settings, hooks, MCP servers, commands, rules
        ".claw", ".claude", ".cursor", ".windsurf", ".codex", ".gemini", ".continue", ".roo",
        ".kiro", ".amazonq", ".junie", ".aider", ".opencode", ".clinerules",
        # CI and forge automation (workflows, actions, CODEOWNERS, agent instructions)
        ".github", ".gitlab", ".gitea", ".forgejo", ".circleci", ".buildkite", ".woodpecker",
        ".tekton",
        # package managers and build tools that load code or settings from the project
        ".yarn", ".mvn", ".cargo", ".bundle",
    }
)  # fmt: skip

# File names protected wherever they appear (fnmatch, case-insensitive, on the last component).
PROTECTED_FILE_PATTERNS = (
    # git: pointer files, submodules, attribute-selected drivers, LFS transfer agents
    ".git", ".gitmodules", ".gitattributes", ".lfsconfig", ".gitconfig",
    # direnv and environment managers run these when you cd into the folder
    ".envrc", "mise.toml", ".mise.toml", "mise.*.toml", ".mise.*.toml", ".rtx.toml",
    ".tool-versions", "flake.nix", "shell.nix", "devenv.nix", "devbox.json",
    # git hook managers
    ".pre-commit-config.yaml", ".pre-commit-config.yml", ".pre-commit-hooks.yaml",
    "lefthook.yml", "lefthook.yaml", "lefthook.json", "lefthook.toml", ".lefthook.yml",
    ".lefthook.yaml", ".lefthook.json", ".lefthook.toml", "lefthook-local.*", ".lefthook-local.*",
    ".huskyrc", ".huskyrc.*", "husky.config.*", ".lintstagedrc", ".lintstagedrc.*",
    "lint-staged.config.*", ".simple-git-hooks.*", "simple-git-hooks.*", ".overcommit.yml",
    # editors: workspace files, local vim/neovim/emacs configuration, cloud dev environments
    "*.code-workspace", "*.sublime-project", ".nvim.lua", ".nvimrc", ".exrc", ".vimrc",
    ".gvimrc", ".lazy.lua", ".dir-locals.el", ".dir-locals-2.el", ".devcontainer.json",
    ".gitpod.yml", ".gitpod.yaml", ".replit", "replit.nix",
    # coding agents: MCP server lists and instruction files other agents (and we) load
    ".mcp.json", "agents.md", "agent.md", "claude.md", "claude.local.md", "gemini.md",
    ".cursorrules", ".windsurfrules", ".clinerules", ".clawrules", ".goosehints", ".roomodes",
    ".aider.conf.yml", ".aider.conf.yaml", "opencode.json", "opencode.jsonc",
    # CI definitions and actions
    ".gitlab-ci.yml", ".gitlab-ci.yaml", ".travis.yml", "azure-pipelines.yml",
    "azure-pipelines.yaml", "jenkinsfile", "bitbucket-pipelines.yml", ".drone.yml",
    ".woodpecker.yml", ".woodpecker.yaml", "appveyor.yml", ".appveyor.yml", ".cirrus.yml",
    "cloudbuild.yaml", "cloudbuild.yml", "buildspec.yml", "codemagic.yaml", "action.yml",
    "action.yaml",
    # package managers and build tools: scripts, hooks, preloads, wrappers, in-tree backends,
    # and build files an editor's language server evaluates when it opens the project
    "package.json", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs", ".pnpmfile.mjs",
    "pnpm-workspace.yaml", "bunfig.toml", ".bunfig.toml", "deno.json", "deno.jsonc",
    "setup.py", "pyproject.toml", "pip.conf", "makefile", "gnumakefile", "justfile",
    ".justfile", "taskfile.yml", "taskfile.yaml", "rakefile", "gemfile", "*.gemspec",
    "cargo.toml", "build.rs", "build.gradle", "build.gradle.kts", "settings.gradle",
    "settings.gradle.kts", "gradle.properties", "gradlew", "gradle-wrapper.properties", "mvnw",
    "pom.xml", "package.swift", "mix.exs", "composer.json", "vagrantfile", "cmakelists.txt",
)  # fmt: skip

# Top-level names the sandbox keeps unwritable even while they do not exist, by mounting a
# read-only placeholder there for the command's lifetime (removed afterwards). Only exact names
# can be placeholders; these are the ones a program on the host picks up without a build step.
PLACEHOLDER_DIRS = (
    ".git", ".vscode", ".idea", ".zed", ".cursor", ".claude", ".claw", ".codex", ".gemini",
    ".windsurf", ".continue", ".devcontainer", ".github", ".husky", ".githooks", ".config",
)  # fmt: skip
PLACEHOLDER_FILES = (
    ".envrc", ".gitmodules", ".gitattributes", ".lfsconfig", ".mcp.json", ".devcontainer.json",
    ".nvim.lua", ".nvimrc", ".exrc", ".lazy.lua", ".dir-locals.el", ".pre-commit-config.yaml",
    ".npmrc", ".yarnrc.yml", "package.json", "AGENTS.md", "CLAUDE.md", ".cursorrules",
    ".clawrules", ".mise.toml",
)  # fmt: skip
# Names a program looks up in order: a placeholder for one must show what the first existing
# one holds, or an empty GNUmakefile would hide the real Makefile inside the sandbox.
PLACEHOLDER_GROUPS = (
    ("GNUmakefile", "makefile", "Makefile"),
    ("lefthook.yml", "lefthook.yaml", ".lefthook.yml", ".lefthook.yaml"),
)
# Login shells, desktops and every tool read the home folder's dot entries and ~/bin.
HOME_PLACEHOLDERS = (
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv",
    ".zprofile", ".zlogin", ".gitconfig", ".pam_environment", ".xprofile", ".xsessionrc",
)  # fmt: skip
HOME_PLACEHOLDER_DIRS = (".config", ".local", ".ssh", "bin")

# Entries of a git directory; a directory holding HEAD plus objects/ or refs/ is one.
_GIT_DIR_ENTRIES = frozenset({"head", "config", "objects", "refs", "hooks", "info"})
_GIT_DIR_ENTRIES |= {"packed-refs", "commondir", "gitdir", "config.worktree"}

_IGNORED_CHARS = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise_component(name: str) -> str:
    """The name as a case-insensitive filesystem or git on macOS/Windows would see it: case
    folded, compatibility-normalised, ignorable code points and trailing dots/spaces removed
    (so `.GIT`, `.git\u200c` and `.git.` are all `.git`)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    folded = _IGNORED_CHARS.sub("", folded)
    return folded.rstrip(". ") or folded


_FILE_REGEX = re.compile("|".join(fnmatch.translate(p) for p in PROTECTED_FILE_PATTERNS))


def static_reason(relative: str, extra_globs: Sequence[str] = ()) -> str | None:
    """Why a path (posix, relative to its workspace folder) is protected by name alone."""
    parts = [normalise_component(p) for p in PurePosixPath(relative).parts if p not in ("", ".")]
    if not parts:
        return None
    for part in parts:
        if part in PROTECTED_DIR_NAMES:
            return f"{part} is a protected location"
    if _FILE_REGEX.match(parts[-1]):
        return f"{relative} is a protected file"
    lowered = "/".join(parts)
    for pattern in extra_globs:
        if fnmatch.fnmatch(lowered, pattern.lower()):
            return f"{relative} is a protected file"
    return None


def home_reason(path: Path, roots: Iterable[Path], home: Path | None = None) -> str | None:
    """With the home folder (or a parent of it) open as a workspace folder, every dot entry of
    the home folder and ~/bin is protected: shells, desktops and tools load them."""
    home = home if home is not None else real_home()
    if not any(home == root or home.is_relative_to(root) for root in roots):
        return None
    if path == home or not path.is_relative_to(home):
        return None
    first = path.relative_to(home).parts[0]
    if first.startswith(".") or first == "bin":
        return f"~/{first} is protected: your login shell, desktop or tools load it"
    return None


def git_dir_shape_reason(path: Path, root: Path) -> str | None:
    """A path inside (or completing) a directory git would use as a repository: one that holds
    HEAD and objects/ or refs/. Such a directory's config names programs git runs."""
    current = path
    while current != root and current.is_relative_to(root):
        parent = current.parent
        if normalise_component(current.name) in _GIT_DIR_ENTRIES and _looks_like_git_dir(
            parent, adding=current.name
        ):
            return f"{parent.name or parent} is protected: it is shaped like a git repository"
        current = parent
    return None


def _looks_like_git_dir(directory: Path, adding: str = "") -> bool:
    try:
        names = {normalise_component(n) for n in os.listdir(directory)}
    except OSError:
        names = set()
    if adding:
        names.add(normalise_component(adding))
    return "head" in names and bool(names & {"objects", "refs"})


def tree_has_git_dir(top: Path, limit: int = 4096) -> Path | None:
    """The first directory in the tree under `top` shaped like a git repository (bounded)."""
    seen = 0
    stack = [top]
    while stack and seen < limit:
        directory = stack.pop()
        seen += 1
        if _looks_like_git_dir(directory):
            return directory
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
        except OSError:
            continue
    return None


def real_home() -> Path:
    return Path(os.path.realpath(Path.home()))


def within(path: Path, directory: Path) -> bool:
    return path == directory or path.is_relative_to(directory)
