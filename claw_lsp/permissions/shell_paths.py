"""What the words of a command name on disk: expansion, the outside-the-workspace test, and what
a reader reads besides its operands (the trees it follows symlinks through, its file lists)."""

from __future__ import annotations

import glob
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from claw_lsp.permissions.shell_tables import PathScope, Word

GLOB_CHARS = re.compile(r"[*?\[]")
BRACE_EXPANSION = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")
MAX_EXPANSIONS = 256
MAX_WALKED_ENTRIES = 5_000  # the check runs before the command: bounded, then it asks
MAX_FILE_LIST_BYTES = 1 << 20
_SEQUENCE = re.compile(r"^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$")


def dynamic(text: str) -> bool:
    return bool(GLOB_CHARS.search(text) or BRACE_EXPANSION.search(text))


def path_candidates(text: str) -> list[str]:
    """The parts of a word that a program could open as a path."""
    if text in ("-", "--"):
        return []
    if text.startswith("--"):
        return [text.split("=", 1)[1]] if "=" in text else []
    if text.startswith("-"):
        # Any letter of a cluster may take the rest as its value: -rf/etc/passwd reads /etc/passwd.
        return [text[index:] for index in range(2, min(len(text), 256))]
    return [text]


def expansion_reasons(word: Word) -> list[str]:
    """A word whose final value the parser cannot know is never judged safe. Braces are
    expanded exactly (expand_braces), unless there are too many results to check."""
    reasons = []
    if word.expansion:
        reasons.append("variable expansion")
    if BRACE_EXPANSION.search(word.text) and len(expand_braces(word.text)) >= MAX_EXPANSIONS:
        reasons.append("brace expansion too large to check")
    return reasons


def check_read_args(args: Sequence[Word], scope: PathScope) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    outside: list[str] = []
    for word in args:
        reasons += expansion_reasons(word)
        for candidate in path_candidates(word.text):
            if is_outside(candidate, scope):
                outside.append(candidate)
    if outside:
        reasons.append("reads outside the workspace")
    return reasons, outside


def is_outside(candidate: str, scope: PathScope) -> bool:
    """True when the path (after ~, braces, globs and symlinks) may lie outside every root."""
    if not candidate:
        return False
    if candidate.startswith("~") and os.path.expanduser(candidate).startswith("~"):
        return True
    path = Path(os.path.expanduser(candidate))
    if path.is_absolute():
        bases: list[Path] = [Path("/")]
    elif scope.cwds is None:
        return ".." in path.parts
    else:
        bases = scope.cwds
    for base in bases:
        for target in expand_word(candidate, base):
            if not inside_roots(base / target, scope.roots):
                return True
    return False


def expand_word(text: str, base: Path) -> list[str]:
    """Every spelling bash could turn the word into: braces, ~, then globs matched in `base`.
    The literal stays in the list (bash keeps an unmatched glob as it is)."""
    out: dict[str, None] = {}
    for variant in expand_braces(text):
        if variant.startswith("~"):
            variant = os.path.expanduser(variant)
        out[variant] = None
        if GLOB_CHARS.search(variant):
            try:
                matches = itertools.islice(glob.iglob(variant, root_dir=base), MAX_EXPANSIONS)
                out.update(dict.fromkeys(matches))
            except (OSError, ValueError):
                pass
    return list(out)


def expand_braces(text: str, limit: int = MAX_EXPANSIONS) -> list[str]:
    """Bash brace expansion ({a,b}, {1..3}, {a..e..2}, nested), at most `limit` results."""
    results: list[str] = []
    pending = [text]
    while pending and len(results) < limit:
        word = pending.pop(0)
        found = _first_brace(word)
        if found is None:
            results.append(word)
            continue
        start, end, alternatives = found
        for alternative in alternatives:
            pending.append(word[:start] + alternative + word[end + 1 :])
            if len(pending) + len(results) > limit * 4:
                break
    return results[:limit] or [text]


def _first_brace(word: str) -> tuple[int, int, list[str]] | None:
    index = 0
    while True:
        start = word.find("{", index)
        if start < 0:
            return None
        depth, parts, last = 0, [], start + 1
        for position in range(start, len(word)):
            char = word[position]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    parts.append(word[last:position])
                    alternatives = parts if len(parts) > 1 else _sequence(parts[0])
                    if alternatives:
                        return start, position, alternatives
                    break
            elif char == "," and depth == 1:
                parts.append(word[last:position])
                last = position + 1
        index = start + 1


def _sequence(inner: str) -> list[str]:
    match = _SEQUENCE.match(inner)
    if not match:
        return []
    first, last, step_text = match.groups()
    step = abs(int(step_text)) if step_text else 1
    step = step or 1
    if first.lstrip("-").isdigit() and last.lstrip("-").isdigit():
        low, high = int(first), int(last)
        width = max(len(first), len(last)) if first.startswith("0") or last.startswith("0") else 0
        numbers = range(low, high + 1, step) if low <= high else range(low, high - 1, -step)
        return [str(n).zfill(width) for n in itertools.islice(numbers, MAX_EXPANSIONS)]
    if len(first) == 1 and len(last) == 1 and not first.isdigit() and not last.isdigit():
        low, high = ord(first), ord(last)
        codes = range(low, high + 1, step) if low <= high else range(low, high - 1, -step)
        return [chr(c) for c in codes]
    return []


def inside_roots(path: Path, roots: Sequence[Path]) -> bool:
    try:
        resolved = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


# --- what readers read beyond their operands --------------------------------------------------

# program -> (short letters, long options / whole words) that make it follow symlinks it meets
_FOLLOWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "grep": ("R", ("--dereference-recursive",)),
    "egrep": ("R", ("--dereference-recursive",)),
    "fgrep": ("R", ("--dereference-recursive",)),
    "rg": ("L", ("--follow",)),
    "du": ("L", ("--dereference",)),
    "tree": ("l", ()),
    "ls": ("L", ("--dereference",)),
    "find": ("", ("-L", "-follow")),
}
# program -> the option naming a file that lists the files to read
_FILE_LISTS = {"sort": "--files0-from", "wc": "--files0-from", "du": "--files0-from"}
_FILE_LISTS["find"] = "-files0-from"


def reader_reasons(
    program: str, args: Sequence[Word], scope: PathScope
) -> tuple[list[str], list[str]]:
    """Reasons to ask, and outside paths, for what a read-only program reads that its operands
    do not show: trees it walks following symlinks, and the files a file list names."""
    texts = [w.text for w in args]
    reasons: list[str] = []
    outside: list[str] = []
    if _follows_symlinks(program, texts) and scope.cwds is not None:
        starts = [t for t in texts if not t.startswith("-")] or ["."]
        for base in scope.cwds:
            found = _escaping_symlink(
                [base / s for s in starts if os.path.lexists(base / s)] or [base], scope.roots
            )
            if found:
                reasons.append(found)
                break
    option = _FILE_LISTS.get(program)
    if option is not None:
        for value in _option_values(texts, option):
            more, names = _file_list(value, scope)
            reasons += more
            outside += names
    return reasons, outside


def _follows_symlinks(program: str, texts: Sequence[str]) -> bool:
    if program == "diff":
        recursive = any(t in ("-r", "--recursive") or _short(t, "r") for t in texts)
        return recursive and "--no-dereference" not in texts
    spec = _FOLLOWS.get(program)
    if spec is None:
        return False
    letters, longs = spec
    for text in texts:
        if text == "--":
            break
        if text in longs or (text.startswith("--") and any(o.startswith(text) for o in longs)):
            return True
        if letters and any(_short(text, letter) for letter in letters):
            return True
    return False


def _short(text: str, letter: str) -> bool:
    return text.startswith("-") and not text.startswith("--") and letter in text[1:]


def _escaping_symlink(starts: Sequence[Path], roots: Sequence[Path]) -> str | None:
    """The first symlink met walking `starts` (following the links that stay inside) whose
    target is outside every root; a reason when the walk is too big to finish."""
    seen: set[str] = set()
    stack = [Path(os.path.realpath(s)) for s in starts]
    count = 0
    while stack:
        directory = stack.pop()
        if str(directory) in seen or not os.path.isdir(directory):
            continue
        seen.add(str(directory))
        for entry in _entries(directory):
            count += 1
            if count > MAX_WALKED_ENTRIES:
                return "too many files to check where its symlinks lead"
            if entry.is_symlink():
                target = Path(os.path.realpath(entry.path))
                if not inside_roots(target, roots):
                    return f"follows a symlink out of the workspace ({entry.name})"
                stack.append(target)
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return None


def _entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            yield from entries
    except OSError:
        return


def _option_values(texts: Sequence[str], option: str) -> list[str]:
    values = []
    for index, text in enumerate(texts):
        name, has_value, value = text.partition("=")
        if len(name) >= 5 and option.startswith(name):
            if has_value:
                values.append(value)
            elif index + 1 < len(texts):
                values.append(texts[index + 1])
            else:
                values.append("-")
    return values


def _file_list(value: str, scope: PathScope) -> tuple[list[str], list[str]]:
    if value == "-" or scope.cwds is None:
        return ["reads file names from its input"], []
    names: list[str] = []
    for base in scope.cwds:
        listing = base / os.path.expanduser(value)
        if is_outside(value, scope):
            return ["reads a file list outside the workspace"], [value]
        try:
            with open(listing, "rb") as handle:
                data = handle.read(MAX_FILE_LIST_BYTES + 1)
        except OSError:
            return ["the file list could not be read"], []
        if len(data) > MAX_FILE_LIST_BYTES:
            return ["the file list is too long to check"], []
        for raw in data.split(b"\0"):
            name = raw.decode("utf-8", "surrogateescape").strip("\n")
            if name and is_outside(name, PathScope(scope.roots, [base])):
                names.append(name)
    return (["the file list names files outside the workspace"] if names else []), names
