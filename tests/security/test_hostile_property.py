"""Issue 13, rule 1 as a property: generated shell command lines that write protected paths, in
varied spellings (quoting, detours, globs, braces, chains, cd, wrappers, recursive copies,
archives), never run without asking. Ground truth is the command's real effect: each generated
line runs once in a scratch copy; if it really wrote a protected path, the decision taken
before it ran must have been a per-change question (or a refusal with approvals off)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.security.hostile import (
    PROTECTED_SAMPLE,
    build_scratch,
    changed,
    protected_changes,
    run_plain,
    shell_decision,
    snapshot,
)


def _quote(word: str, style: str, cut: int) -> str:
    if style == "single":
        return f"'{word}'"
    if style == "double":
        return f'"{word}"'
    if style == "split" and len(word) > 1:
        at = 1 + cut % (len(word) - 1)
        return f"{word[:at]}''{word[at:]}"
    if style == "backslash":
        return "".join(f"\\{c}" if c == "." else c for c in word)
    return word


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, str]:
    target = draw(st.sampled_from(PROTECTED_SAMPLE))
    parent, _, name = target.rpartition("/")
    detour = draw(st.sampled_from(["", "./", "sub/../", "./sub/./../", "sub/..//"]))
    style = draw(st.sampled_from(["plain", "single", "double", "split", "backslash"]))
    spelled = _quote(detour + target, style, draw(st.integers(0, 40)))
    pattern = draw(st.sampled_from(["exact", "glob", "brace", "star"]))
    if pattern == "glob":
        spelled = detour + target[:-1] + "?"
    elif pattern == "brace":
        spelled = "{nothing," + detour + target + "}"
    elif pattern == "star" and parent:
        spelled = f"{parent}/{name[0]}*"
    writer = draw(
        st.sampled_from(
            [
                "cp src.txt {t}", "mv src.txt {t}", "touch {t}", "echo x > {t}",
                "echo x >>{t}", "tee {t} < src.txt", "install -D src.txt {t}",
                "ln -sf src.txt {t}", "dd if=src.txt of={t} status=none", "truncate -s1 {t}",
                ">{t}", "cp -f src.txt {t}", "cp --no-target-directory src.txt {t}",
                "cat src.txt 1>{t}", "cp -r payload/. .", "cp -a payload/. ./",
                "tar -xf payload.tar", "tar -xvf payload.tar -C .", "rsync -a payload/ ./",
                "mv -f payload/* .",
            ]
        )
    )  # fmt: skip
    line = writer.format(t=spelled)
    if parent and draw(st.booleans()):
        line = f"mkdir -p {parent} && {line}"
    before = draw(st.sampled_from(["", "true && ", "ls; ", "cd sub && cd .. && ", "echo a | "]))
    after = draw(st.sampled_from(["", " || true", "; echo done", " && ls"]))
    wrapper = draw(st.sampled_from(["", "command ", "nice ", "timeout 5 ", "env "]))
    return target, f"{before}{wrapper}{line}{after}"


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=command_lines())
def test_rule1_property_no_generated_protected_write_runs_unasked(case: tuple[str, str]) -> None:
    target, line = case
    with tempfile.TemporaryDirectory(prefix="claw-prop-") as scratch:
        root = Path(scratch) / "ws"
        build_scratch(root, target)
        asked = shell_decision(line, root)
        refused = shell_decision(line, root, approvals="deny")
        before = snapshot(root)
        run_plain(line, root)
        written = protected_changes(changed(before, snapshot(root)))
    event("writes a protected path" if written else "writes nothing protected")
    if written:
        assert asked[0] in ("ask", "deny") and asked[1] is False, (line, written, asked)
        assert refused[0] == "deny", (line, written)
