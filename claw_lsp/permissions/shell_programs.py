"""Program tables for shell_classify: which programs are read-only, writers, wrappers, code.

Short on purpose: a program missing here needs approval, which is the safe failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Risk(StrEnum):
    READ_ONLY = "read-only"  # known read-only command, no dangerous flags, no writes
    ORDINARY = "ordinary"  # confined file changes inside the workspace
    APPROVAL = "approval"  # code execution, destructive, network, writes outside, unknown

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


class Kind(StrEnum):
    """What a segment does; rules use it to refuse broad allow rules for code execution."""

    READ = "read"
    WRITE = "write"
    CODE = "code"  # interpreters, shells, wrappers: run code chosen by their arguments
    RUNNER = "runner"  # build and test tools that run the repository's code
    NETWORK = "network"
    DESTRUCTIVE = "destructive"
    OTHER = "other"


@dataclass(frozen=True)
class Word:
    text: str  # after quote removal
    expansion: bool = False  # contains $VAR / ${..}


@dataclass
class PathScope:
    roots: tuple[Path, ...]
    cwds: list[Path] | None  # every directory the command may be in (cd adds to it); None: unknown


_MAX_CWDS = 32
_GLOB_CHARS = re.compile(r"[*?\[]")
_BRACE_EXPANSION = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")


def classify_program(
    program: str, args_with_program: list[Word], scope: PathScope
) -> tuple[Risk, Kind, list[str], list[str]]:
    args = args_with_program[1:]
    texts = [w.text for w in args]
    if program == "git":
        return _classify_git(args, scope)
    if program == "cd":
        return _classify_cd(args, scope)
    if program in WRITE_PROGRAMS:
        reasons, outside = _check_write_args(args, scope)
        return Risk.ORDINARY, Kind.WRITE, reasons, outside
    if program in READ_PROGRAMS:
        reasons = banned_options(program, texts)
        if program == "sed":
            reasons += sed_problems(texts)
        if program == "uniq" and len([t for t in texts if not t.startswith("-")]) > 1:
            reasons.append("uniq writes its second operand")
        if program in NO_PATH_PROGRAMS:
            return Risk.READ_ONLY, Kind.READ, reasons, []
        more, outside = _check_read_args(args, scope)
        return Risk.READ_ONLY, Kind.READ, reasons + more, outside
    kind, reason = describe_unknown(program)
    # Still report paths outside (curl -o ~/.bashrc) so rules and the user can see them.
    _, outside = _check_read_args(args, scope)
    return Risk.APPROVAL, kind, [reason], outside


def _classify_git(args: list[Word], scope: PathScope) -> tuple[Risk, Kind, list[str], list[str]]:
    texts = [w.text for w in args]
    index = 0
    reasons: list[str] = []
    while index < len(texts) and texts[index].startswith("-"):
        if texts[index] not in GIT_SAFE_GLOBAL_OPTIONS:
            reasons.append(f"git {texts[index].split('=')[0]}")
        index += 1
    if reasons:
        return Risk.APPROVAL, Kind.CODE, reasons, []
    if index == len(texts):
        return Risk.READ_ONLY, Kind.READ, [], []
    sub, rest = texts[index], args[index + 1 :]
    rest_texts = [w.text for w in rest]
    if git_is_read_only(sub, rest_texts):
        reasons = banned_options(f"git {sub}", rest_texts)
        more, outside = _check_read_args(rest, scope)
        return Risk.READ_ONLY, Kind.READ, reasons + more, outside
    if sub in GIT_ORDINARY:
        reasons, outside = _check_write_args(rest, scope)
        return Risk.ORDINARY, Kind.WRITE, reasons, outside
    kind, reason = describe_git(sub)
    _, outside = _check_read_args(rest, scope)
    return Risk.APPROVAL, kind, [reason], outside


def _classify_cd(args: list[Word], scope: PathScope) -> tuple[Risk, Kind, list[str], list[str]]:
    operands = [w for w in args if w.text != "--"]
    if len(operands) != 1 or operands[0].expansion:
        return Risk.APPROVAL, Kind.OTHER, ["cd without a plain relative target"], []
    target = operands[0].text
    if target.startswith(("-", "~", "/")) or ".." in Path(target).parts or _dynamic(target):
        outside = [target] if is_outside(target, scope) else []
        return Risk.APPROVAL, Kind.OTHER, ["cd leaves the workspace"], outside
    if is_outside(target, scope):
        return Risk.APPROVAL, Kind.OTHER, ["cd leaves the workspace"], [target]
    if scope.cwds is not None:
        if len(scope.cwds) >= _MAX_CWDS:
            return Risk.APPROVAL, Kind.OTHER, ["too many cd"], []
        # cd may fail, so later words are judged from every directory the shell may be in.
        scope.cwds = list(dict.fromkeys([*scope.cwds, *(base / target for base in scope.cwds)]))
    return Risk.READ_ONLY, Kind.READ, [], []


def _dynamic(text: str) -> bool:
    return bool(_GLOB_CHARS.search(text) or _BRACE_EXPANSION.search(text))


def _path_candidates(text: str) -> list[str]:
    """The parts of a word that a program could open as a path."""
    if text in ("-", "--"):
        return []
    if text.startswith("--"):
        return [text.split("=", 1)[1]] if "=" in text else []
    if text.startswith("-"):
        # Any letter of a cluster may take the rest as its value: -rf/etc/passwd reads /etc/passwd.
        return [text[index:] for index in range(2, min(len(text), 256))]
    return [text]


def _expansion_reasons(word: Word) -> list[str]:
    """A word whose final value the parser cannot know is never judged safe."""
    reasons = []
    if word.expansion:
        reasons.append("variable expansion")
    if _BRACE_EXPANSION.search(word.text):
        reasons.append("brace expansion")
    return reasons


def _check_read_args(args: list[Word], scope: PathScope) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    outside: list[str] = []
    for word in args:
        reasons += _expansion_reasons(word)
        for candidate in _path_candidates(word.text):
            if is_outside(candidate, scope):
                outside.append(candidate)
    if outside:
        reasons.append("reads outside the workspace")
    return reasons, outside


def _check_write_args(args: list[Word], scope: PathScope) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    outside: list[str] = []
    for word in args:
        reasons += _expansion_reasons(word)
        for candidate in _path_candidates(word.text):
            path = Path(candidate)
            if candidate.startswith("~") or path.is_absolute():
                reasons.append("absolute or home path")
            elif os.path.normpath(candidate).startswith(".."):
                reasons.append("path escapes the working directory")
            if any(part in PROTECTED_NAMES for part in path.parts):
                reasons.append("protected path")
            if is_outside(candidate, scope):
                outside.append(candidate)
    if outside:
        reasons.append("writes outside the workspace")
    return reasons, outside


def is_outside(candidate: str, scope: PathScope) -> bool:
    """True when the path (after ~, globs and symlinks) may lie outside every workspace root."""
    if not candidate:
        return False
    if candidate.startswith("~"):
        expanded = os.path.expanduser(candidate)
        if expanded.startswith("~"):
            return True
        candidate = expanded
    path = Path(candidate)
    if path.is_absolute():
        bases: list[Path] = [Path("/")]
    elif scope.cwds is None:
        return ".." in path.parts
    else:
        bases = scope.cwds
    for base in bases:
        for target in _expand(base, candidate):
            if not _inside_roots(base / target, scope.roots):
                return True
    return False


def _expand(base: Path, candidate: str) -> list[str]:
    if not _GLOB_CHARS.search(candidate):
        return [candidate]
    try:
        matches = itertools.islice(glob.iglob(candidate, root_dir=base), 200)
        return [candidate, *matches]
    except (OSError, ValueError):
        return [candidate]


def _inside_roots(path: Path, roots: tuple[Path, ...]) -> bool:
    try:
        resolved = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


# --- tables ---------------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SYSTEM_BIN_DIRS = _names("/bin /usr/bin /usr/local/bin /sbin /usr/sbin")
PROTECTED_NAMES = _names(".git .claw .vscode .idea .envrc .github")
READ_PROGRAMS = _names(
    "ls cat head tail wc grep egrep fgrep rg find echo pwd which file stat du df tree sort uniq"
    " diff cmp basename dirname realpath readlink date true false sed nl"
)
NO_PATH_PROGRAMS = _names("echo pwd which basename dirname true false")
WRITE_PROGRAMS = _names("mkdir touch cp mv")
SHELLS = _names("bash sh dash zsh ksh mksh fish csh tcsh busybox")
# wrapper -> its options that take a value (so the wrapped program is found after them)
WRAPPERS: dict[str, frozenset[str]] = {
    name: _names(options)
    for name, options in {
        "sudo": "-u -g -C -D -h -p -r -t -U -R -T",
        "doas": "-u -C",
        "su": "-c -s -g -G",
        "runuser": "-u -g -G",
        "env": "-u --unset -C --chdir -S --split-string",
        "command": "",
        "builtin": "",
        "exec": "-a",
        "nohup": "",
        "time": "-f -o --format --output",
        "timeout": "-s -k --signal --kill-after",
        "nice": "-n --adjustment",
        "ionice": "-c -n -p",
        "stdbuf": "-i -o -e",
        "setsid": "",
        "xargs": "-a -d -E -I -L -n -P -s --arg-file --delimiter --max-args --max-procs",
        "flock": "-w -E --timeout",
        "watch": "-n -d --interval",
        "chronic": "",
        "unbuffer": "",
        "strace": "-o -e -p -s",
        "ltrace": "-o -e -p -s",
        "fakeroot": "",
        "firejail": "",
        "chroot": "",
        "unshare": "",
        "nsenter": "-t",
        "systemd-run": "-p -u",
        "parallel": "-j",
    }.items()
}
WRAPPERS_WITH_LEADING_OPERAND = _names("timeout flock chroot")
_INTERPRETERS = _names(
    "python python2 python3 pypy pypy3 node nodejs deno bun perl ruby irb php lua luajit awk gawk"
    " mawk nawk tclsh wish Rscript R julia java jshell groovy scala kotlin osascript pwsh"
    " powershell expect sed vim vi nvim emacs ed ex less more man gdb source . eval"
    " npx pnpx bunx uvx pipx npm yarn pnpm make gmake just task invoke docker podman"
)
_RUNNERS = _names(
    "pytest py.test tox nox cargo go rustc gcc cc clang g++ c++ javac mvn gradle gradlew ant sbt"
    " dotnet cmake ninja meson bazel rake bundle gem pip pip3 uv poetry pdm hatch composer mix"
    " swift tsc eslint prettier ruff mypy black flake8 pylint jest vitest mocha phpunit rspec"
)
_NETWORK = _names(
    "curl wget nc ncat netcat socat telnet ssh scp sftp rsync ftp tftp ping ping6 traceroute"
    " tracepath mtr getent dig nslookup host whois http https xh aria2c lftp openssl gh aws gcloud"
    " az kubectl"
)
_DESTRUCTIVE = _names(
    "rm rmdir unlink shred truncate dd chmod chown chgrp chattr ln install tee mkfs mkswap fdisk"
    " parted wipefs kill pkill killall shutdown reboot halt poweroff mount umount crontab useradd"
    " userdel usermod passwd chpasswd apt apt-get dpkg yum dnf pacman apk brew snap systemctl"
    " service iptables nft sysctl swapoff patch"
)
# program -> (banned short option letters, banned long options, banned whole words)
_BANNED: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "sort": ("o", _names("--output --compress-program"), frozenset()),
    "tree": ("o", frozenset(), frozenset()),
    "file": ("C", _names("--compile"), frozenset()),
    "date": ("s", _names("--set"), frozenset()),
    "rg": ("z", _names("--pre --search-zip --hostname-bin"), frozenset()),
    "find": (
        "",
        frozenset(),
        _names("-exec -execdir -ok -okdir -delete -fprint -fprint0 -fprintf -fls"),
    ),
    "git grep": ("O", _names("--open-files-in-pager --textconv --ext-diff"), frozenset()),
}
_BANNED_GIT_READ = ("", _names("--output --ext-diff --textconv --exec"), frozenset[str]())

GIT_SAFE_GLOBAL_OPTIONS = _names(
    "--no-pager -P --no-optional-locks --literal-pathspecs --no-replace-objects --glob-pathspecs"
    " --noglob-pathspecs --icase-pathspecs"
)
_GIT_READ_SUBS = _names(
    "status log diff show rev-parse ls-files blame grep shortlog describe ls-tree cat-file show-ref"
    " rev-list whatchanged name-rev merge-base count-objects diff-tree diff-files diff-index"
    " for-each-ref version annotate cherry check-ignore check-attr"
)
GIT_ORDINARY = _names("add mv")
_GIT_NETWORK = _names("push pull fetch clone ls-remote submodule send-email request-pull remote")
_GIT_LIST_OPTIONS = {
    "branch": _names(
        "-a --all -r --remotes -v -vv --verbose -l --list --show-current --merged --no-merged"
        " --contains --no-contains --points-at --sort --format --color --no-color --column"
        " --no-column -i --ignore-case --abbrev --no-abbrev"
    ),
    "tag": _names(
        "-l --list -n --sort --contains --no-contains --merged --no-merged --points-at --format"
        " --column --no-column -i --ignore-case --color"
    ),
}
_GIT_FILTERS = _names("-l --list --merged --no-merged --contains --no-contains --points-at")
_GIT_CONFIG_READS = _names("--get --get-all --get-regexp --get-urlmatch --list -l")
_GIT_CONFIG_WRITES = _names(
    "--add --unset --unset-all --replace-all --rename-section --remove-section -e --edit"
)
_SED_PRINT = re.compile(r"^\s*(?:(?:\d+|\$)(?:\s*,\s*(?:\d+|\$|\+\d+))?|/[^/;\\\n]*/)?\s*p\s*$")


def banned_options(program: str, texts: Sequence[str]) -> list[str]:
    spec = _BANNED.get(program) or (_BANNED_GIT_READ if program.startswith("git ") else None)
    if spec is None:
        return []
    short, longs, exact = spec
    found: list[str] = []
    for text in texts:
        if text == "--":
            break
        if text in exact:
            found.append(f"{program} {text}")
        elif text.startswith("--"):
            name = text.split("=", 1)[0]
            # GNU tools and git accept unambiguous abbreviations (--compress-prog): match prefixes.
            if len(name) > 2 and any(b.startswith(name) or name.startswith(b) for b in longs):
                found.append(f"{program} {name}")
        elif text.startswith("-") and short and any(c in short for c in text[1:]):
            found.append(f"{program} {text}")
    return found


def sed_problems(texts: Sequence[str]) -> list[str]:
    """sed is read-only only as `sed -n` with simple print scripts (never w, e, s///w or -i)."""
    quiet = False
    scripts: list[str] = []
    operands: list[str] = []
    index = 0
    while index < len(texts):
        text = texts[index]
        if text in ("-n", "--quiet", "--silent"):
            quiet = True
        elif text in ("-e", "--expression") and index + 1 < len(texts):
            scripts.append(texts[index + 1])
            index += 1
        elif text.startswith("--expression="):
            scripts.append(text.split("=", 1)[1])
        elif text in ("--regexp-extended", "--posix", "--separate", "--null-data"):
            pass
        elif text.startswith("-") and not text.startswith("--") and set(text[1:]) <= set("nErsz"):
            quiet = quiet or "n" in text
        elif text.startswith("-") and text != "-":
            return [f"sed {text}"]
        else:
            operands.append(text)
        index += 1
    if not scripts and operands:
        scripts.append(operands.pop(0))
    if not quiet or not scripts:
        return ["sed without -n"]
    for script in scripts:
        for command in re.split(r"[;\n]", script):
            if command.strip() and not _SED_PRINT.match(command):
                return ["sed script is not a simple print"]
    return []


def git_is_read_only(sub: str, rest: Sequence[str]) -> bool:
    if sub in _GIT_READ_SUBS:
        return True
    first = rest[0] if rest else ""
    if sub in _GIT_LIST_OPTIONS:
        options = [t.split("=", 1)[0] for t in rest if t.startswith("-")]
        allowed = _GIT_LIST_OPTIONS[sub]
        if any(o not in allowed and not re.fullmatch(r"-n\d*", o) for o in options):
            return False
        has_operand = any(not t.startswith("-") for t in rest)
        return not has_operand or any(o in _GIT_FILTERS for o in options)
    if sub == "stash":
        return first in ("list", "show")
    if sub == "remote":
        return list(rest) in ([], ["-v"], ["--verbose"]) or first == "get-url"
    if sub == "config":
        flags = {t.split("=", 1)[0] for t in rest if t.startswith("-")}
        reads = first in ("get", "list") or bool(flags & _GIT_CONFIG_READS)
        return reads and not flags & _GIT_CONFIG_WRITES
    if sub == "reflog":
        return first in ("", "show")
    if sub == "worktree":
        return first == "list"
    return False


def describe_git(sub: str) -> tuple[Kind, str]:
    if sub in _GIT_NETWORK:
        return Kind.NETWORK, f"git {sub} (network)"
    if sub == "commit":
        return Kind.CODE, "git commit runs hooks"
    return Kind.DESTRUCTIVE, f"git {sub} changes the repository"


def describe_unknown(program: str) -> tuple[Kind, str]:
    if not program:
        return Kind.OTHER, "empty command"
    if program in SHELLS or program in _INTERPRETERS or re.fullmatch(r"python[\d.]*", program):
        return Kind.CODE, f"runs code: {program}"
    if program in WRAPPERS:
        return Kind.CODE, f"wrapper: {program}"
    if program in _NETWORK:
        return Kind.NETWORK, f"network: {program}"
    if program in _DESTRUCTIVE:
        return Kind.DESTRUCTIVE, f"destructive: {program}"
    if program in _RUNNERS:
        return Kind.RUNNER, f"runs project code: {program}"
    return Kind.OTHER, f"unknown command: {program}"
