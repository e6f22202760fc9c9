"""Where a shell command writes: every target, after brace and glob expansion, including where
recursive copies, moves, archive extraction and links land.

The targets are judged by the same protected-path rule as the write tools; a write onto a
file with more than one hard link, or through a symlink that leaves the folder, is refused.
Targets this module cannot list (an interpreter, `tar` from stdin) are `unknown`: for those the
sandbox is the boundary.
"""

from __future__ import annotations

import itertools
import os
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from claw_lsp.permissions.protected import tree_has_git_dir
from claw_lsp.permissions.shell_paths import expand_word
from claw_lsp.permissions.shell_tables import PathScope, Word

MAX_TARGETS = 4096


@dataclass
class Writes:
    # (absolute lexical path, whether the write goes through a symlink at the final name)
    paths: list[tuple[Path, bool]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # why some targets cannot be listed
    protected: list[str] = field(default_factory=list)  # found while expanding (a copied repo)

    def add(self, path: Path, follows: bool = True) -> None:
        if len(self.paths) >= MAX_TARGETS:
            if "too many files to check" not in self.unknown:
                self.unknown.append("too many files to check")
                self.protected.append("writes more files than can be checked")
            return
        self.paths.append((Path(os.path.normpath(path)), follows))


@dataclass(frozen=True)
class Options:
    short_values: str = ""  # short options that take a value
    long_values: frozenset[str] = frozenset()  # long options that take a value as a next word


def parse(args: Sequence[Word], spec: Options) -> tuple[dict[str, str], list[str]]:
    """GNU-style options (clusters, --x=v, --) into {option: value} and the operands."""
    options: dict[str, str] = {}
    operands: list[str] = []
    index = 0
    while index < len(args):
        text = args[index].text
        index += 1
        if text == "--":
            operands += [w.text for w in args[index:]]
            break
        if text.startswith("--"):
            name, has_value, value = text.partition("=")
            if not has_value and name in spec.long_values and index < len(args):
                value = args[index].text
                index += 1
            options[name] = value
        elif text.startswith("-") and text != "-":
            for position, letter in enumerate(text[1:], start=1):
                if letter in spec.short_values:
                    value = text[position + 1 :]
                    if not value and index < len(args):
                        value = args[index].text
                        index += 1
                    options["-" + letter] = value
                    break
                options["-" + letter] = ""
        else:
            operands.append(text)
    return options, operands


def _spec(short: str, *longs: str) -> Options:
    return Options(short, frozenset(longs))


_COPY = _spec("tS", "--target-directory", "--suffix", "--no-preserve", "--sparse")
_INSTALL = _spec("tSmogZ", "--target-directory", "--suffix", "--mode", "--owner", "--group")
_SIMPLE = {
    "mkdir": _spec("mZ", "--mode"),
    "touch": _spec("rdt", "--reference", "--date", "--time"),
    "tee": _spec(""),
    "truncate": _spec("sr", "--size", "--reference"),
    "rm": _spec(""),
    "rmdir": _spec(""),
    "unlink": _spec(""),
    "shred": _spec("ns", "--iterations", "--size", "--random-source"),
}
_FOLLOWING = frozenset({"touch", "tee", "truncate", "shred"})
_RECURSIVE_DELETE = frozenset({"rm"})
_MODES = {"chmod": _spec("", "--reference"), "chown": _spec("", "--reference", "--from")}
_MODES["chgrp"] = _MODES["chown"]


def program_writes(program: str, args: Sequence[Word], scope: PathScope) -> Writes | None:
    """The targets of a known writer (None when the program is not one this module knows)."""
    if scope.cwds is None:
        writes = Writes()
        writes.unknown.append("the working directory is not known")
        return writes if program in _KNOWN else None
    handler = _HANDLERS.get(program)
    if handler is not None:
        writes = Writes()
        for base in scope.cwds:
            handler(program, args, base, writes, scope)
        return writes
    if program in _SIMPLE:
        writes = Writes()
        options, operands = parse(args, _SIMPLE[program])
        recursive = program in _RECURSIVE_DELETE and _any(options, "-r", "-R", "--recursive")
        for base in scope.cwds:
            for target in _expanded(operands, base):
                writes.add(target, follows=program in _FOLLOWING)
                if recursive:
                    _add_tree(target, target, writes)
        return writes
    return None


def _any(options: dict[str, str], *names: str) -> bool:
    return any(name in options for name in names)


def _expanded(words: Sequence[str], base: Path) -> Iterator[Path]:
    for word in words:
        for variant in expand_word(word, base):
            yield base / variant


def _copy_like(
    program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope
) -> None:
    spec = _INSTALL if program == "install" else _COPY
    options, operands = parse(args, spec)
    if program == "install" and "-d" in options:
        for target in _expanded(operands, base):
            writes.add(target, follows=False)
        return
    recursive = program == "mv" or _any(options, "-r", "-R", "-a", "--recursive", "--archive")
    target_dir = options.get("-t") or options.get("--target-directory")
    sources = operands if target_dir else operands[:-1]
    destination = target_dir or (operands[-1] if operands else None)
    if destination is None or not sources:
        writes.unknown.append(f"{program} without a destination")
        return
    into = True if target_dir else False if _any(options, "-T", "--no-target-directory") else None
    # ln -n treats a symlink to a directory as the file to replace, not as a directory.
    no_dereference = program == "ln" and _any(options, "-n", "--no-dereference")
    if no_dereference and into is None and len(sources) == 1:
        into = False if os.path.islink(base / destination) else None
    follows = program == "cp" and "--remove-destination" not in options
    for dest in (base / d for d in expand_word(destination, base)):
        expanded = [s for word in sources for s in expand_word(word, base)]
        for source in expanded:
            top = _landing(source, dest, into, many=len(expanded) > 1, trailing=destination)
            writes.add(top, follows=follows and program != "ln")
            if program == "mv":
                writes.add(base / source, follows=False)  # the source name goes away
            if recursive and program != "ln":
                _add_tree(base / source, top, writes)


def _landing(source: str, dest: Path, into: bool | None, *, many: bool, trailing: str) -> Path:
    """Where one source lands: DEST itself, or DEST/NAME when DEST is (to be) a directory.
    NAME is the source's last component as written, so `payload/.` merges into DEST."""
    if into is None:
        into = many or trailing.endswith("/") or os.path.isdir(dest)
    if not into:
        return dest
    name = source.rstrip("/").rsplit("/", 1)[-1] or "."
    return dest / name


def _add_tree(source: Path, top: Path, writes: Writes) -> None:
    """Every entry of the source tree, as it will land under `top` (bounded)."""
    real = Path(os.path.realpath(source))
    if not real.is_dir():
        return
    repo = tree_has_git_dir(real)
    if repo is not None:
        writes.protected.append(f"copies a git repository directory ({repo.name})")
    for relative in itertools.islice(_walk(real), MAX_TARGETS + 1):
        writes.add(top / relative, follows=False)


def _walk(top: Path) -> Iterator[str]:
    stack = [""]
    while stack:
        relative = stack.pop()
        try:
            with os.scandir(top / relative) as entries:
                for entry in entries:
                    name = f"{relative}/{entry.name}" if relative else entry.name
                    yield name
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(name)
        except OSError:
            continue


def _rsync(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    spec = _spec("efT", "--rsh", "--exclude", "--include", "--filter", "--files-from",
                 "--rsync-path", "--temp-dir", "--backup-dir", "--link-dest", "--compare-dest",
                 "--copy-dest", "--log-file", "--password-file", "--chmod", "--chown")  # fmt: skip
    options, operands = parse(args, spec)
    if len(operands) < 2 or ":" in operands[-1]:
        writes.unknown.append("rsync to a remote or without a destination")
        return
    if _any(options, "--files-from"):
        writes.unknown.append("rsync --files-from")
    destination = base / operands[-1]
    for source in (s for word in operands[:-1] for s in expand_word(word, base)):
        contents = source.endswith("/")
        is_dir = os.path.isdir(base / source)
        into = not contents and (is_dir or len(operands) > 2 or os.path.isdir(destination))
        top = _landing(source, destination, into, many=False, trailing="")
        writes.add(top, follows=not is_dir)
        _add_tree(base / source, top, writes)


def _tar(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    words = list(args)
    if words and not words[0].text.startswith("-"):  # `tar xzf a.tgz`: bundled old style
        words[0] = Word("-" + words[0].text)
    options = parse(words, _spec("fCTXbH", "--file", "--directory", "--files-from"))[0]
    archive = options.get("-f") or options.get("--file")
    into = base / (options.get("-C") or options.get("--directory") or ".")
    if _any(options, "-c", "--create", "-r", "--append", "-u", "--update"):
        if archive and archive != "-":
            writes.add(base / archive)
        return
    if not _any(options, "-x", "--extract", "--get"):
        return
    members = _archive_members(base / archive, is_tar=True) if archive and archive != "-" else None
    _add_members(members, into, writes, f"{program} archive")


def _unzip(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    options, operands = parse(args, _spec("dxP"))
    if _any(options, "-l", "-t", "-v", "-p", "-Z"):
        return
    into = base / (options.get("-d") or ".")
    members = _archive_members(base / operands[0], is_tar=False) if operands else None
    _add_members(members, into, writes, "zip archive")


def _add_members(members: list[str] | None, into: Path, writes: Writes, what: str) -> None:
    if members is None:
        writes.unknown.append(f"the {what} could not be listed")
        writes.protected.append(f"extracts a {what} whose contents could not be checked")
        return
    for name in members:
        writes.add(into / name.lstrip("/"), follows=False)


def _archive_members(path: Path, *, is_tar: bool) -> list[str] | None:
    try:
        if is_tar:
            return _tar_members(path)
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()[: MAX_TARGETS + 1]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, tarfile.TarError):
        return None


def _tar_members(path: Path) -> list[str]:
    with tarfile.open(path, "r:*") as archive:
        return [m.name for m in itertools.islice(archive, MAX_TARGETS + 1)]


def _dd(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    for word in args:
        if word.text.startswith("of="):
            for target in _expanded([word.text[3:]], base):
                writes.add(target)


def _sed(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    options, operands = parse(args, _spec("efl", "--expression", "--file", "--line-length"))
    if not any(o in ("-i", "--in-place") or o.startswith("--in-place") for o in options):
        return
    files = operands if _any(options, "-e", "-f", "--expression", "--file") else operands[1:]
    for target in _expanded(files, base):
        writes.add(target, follows="--follow-symlinks" in options)


def _modes(program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope) -> None:
    """chmod MODE FILE..., chown OWNER FILE... (chmod's `-x` is a mode, not an option)."""
    mode = next((w for w in args if program == "chmod" and _is_mode(w.text)), None)
    options, operands = parse([w for w in args if w is not mode], _MODES[program])
    if mode is None and not any(o.startswith("--reference") for o in options) and operands:
        operands = operands[1:]
    recursive = _any(options, "-R", "--recursive")
    for target in _expanded(operands, base):
        writes.add(target)
        if recursive:
            _add_tree(target, target, writes)


def _is_mode(text: str) -> bool:
    symbolic = set(text[1:]) <= set("rwxXstugoa,+-=")
    return len(text) > 1 and ((text[0] in "-+=" and symbolic) or text.isdigit())


def _tree_output(
    program: str, args: Sequence[Word], base: Path, writes: Writes, _: PathScope
) -> None:
    """Readers with an output option (sort -o, tree -o): the output file is a write target."""
    options = parse(args, _spec("o", "--output"))[0]
    for value in (options.get("-o"), options.get("--output")):
        if value:
            writes.add(base / value)


_HANDLERS = {
    "cp": _copy_like,
    "mv": _copy_like,
    "install": _copy_like,
    "ln": _copy_like,
    "rsync": _rsync,
    "tar": _tar,
    "unzip": _unzip,
    "dd": _dd,
    "sed": _sed,
    "chmod": _modes,
    "chown": _modes,
    "chgrp": _modes,
    "sort": _tree_output,
    "tree": _tree_output,
}
_KNOWN = frozenset(_HANDLERS) | frozenset(_SIMPLE)
