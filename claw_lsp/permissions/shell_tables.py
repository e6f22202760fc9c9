"""Program tables for the shell classifier: which programs are read-only, writers, wrappers,
code; their dangerous options; git's subcommands.

Short on purpose: a program missing here needs approval, which is the safe failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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
    # Why a real path inside `root` is protected (the one protected-path rule), given (path, root).
    protect: Callable[[Path, Path], str | None] | None = None


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SYSTEM_BIN_DIRS = _names("/bin /usr/bin /usr/local/bin /sbin /usr/sbin")
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
        named = {t.split("=", 1)[0] for t in rest if t.startswith("-")}
        reads = first in ("get", "list") or bool(named & _GIT_CONFIG_READS)
        return reads and not named & _GIT_CONFIG_WRITES
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
