"""Neovim in a real terminal (tmux), typed into like a user: the chat buffer, `@` completion with
<C-x><C-o>, sending with <CR>, the streamed turn with its folded edit diff, `gu` to undo it.
Each step is checked on the captured screen; the last screen is saved (docs/images/neovim-chat.txt
with CLAW_UPDATE_SCREENSHOT=1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.neovim.test_neovim import HERE, REPO, _find_claw_lsp, _find_nvim, _spec_env
from tests.support.scripted_model import ScriptedModel

pytestmark = pytest.mark.neovim

SCREEN_TARGET = REPO / "docs" / "images" / "neovim-chat.txt"
WAIT_S = 60.0


class Tmux:
    """One tmux server (its own socket) with one 120x40 window running nvim."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket, self.env = socket, env

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env, capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        return done.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "claw", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "claw")

    def wait_for(self, what: str, check: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + WAIT_S
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


@pytest.fixture
def tmux_nvim(tmp_path: Path) -> Iterator[tuple[Tmux, ScriptedModel, Path]]:
    nvim, claw_lsp = _find_nvim(), _find_claw_lsp()
    if shutil.which("tmux") is None or nvim is None or claw_lsp is None:
        pytest.skip("tmux, nvim or claw-lsp missing: run scripts/install-neovim-test-deps.sh")
    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    (workspace / "demo.py").write_text("x = 1\n")
    model = ScriptedModel().start()
    env = _spec_env(tmp_path, model, claw_lsp)
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    tmux = Tmux(f"claw-test-{uuid.uuid4().hex[:8]}", env)
    command = f"cd {workspace} && exec {nvim} --clean -u {HERE / 'tmux' / 'init.lua'} demo.py"
    tmux.run("new-session", "-d", "-s", "claw", "-x", "120", "-y", "40", command)
    try:
        yield tmux, model, workspace
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], env=env, check=False)
        model.stop()


def test_a_conversation_typed_in_a_real_terminal(
    tmux_nvim: tuple[Tmux, ScriptedModel, Path],
) -> None:
    tmux, model, workspace = tmux_nvim
    tmux.wait_for("the chat and claw's statusline", lambda s: "## You" in s and "claw:write" in s)
    model.add(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "demo.py"}}]},
        {"tool_calls": [{"name": "edit_file", "arguments": {
            "path": "demo.py", "old_text": "x = 1", "new_text": "x = 2"}}]},
        {"text": "Changed x to 2 in demo.py."},
    )  # fmt: skip
    tmux.keys("G", "A")
    tmux.keys("Set x to 2 in @dem", literal=True)
    tmux.keys("C-x", "C-o")
    popup = tmux.wait_for("the completion popup", lambda s: "@demo.py" in s and "[file]" in s)
    tmux.keys("C-y")
    tmux.keys(" please", literal=True)
    tmux.keys("Escape", "Enter")
    screen = tmux.wait_for("the answer", lambda s: "Changed x to 2 in demo.py." in s)
    assert "## You" in screen.split("Changed x to 2")[-1], "a new heading waits below the answer"
    assert "Set x to 2 in @demo.py please" in screen
    assert "📎 attached file demo.py" in screen or "attached file demo.py" in screen
    # Tool calls and the edit's diff are folded: their headers show, their details do not.
    assert "▸ edit_file demo.py" in screen and "✎ edited demo.py" in screen
    assert '"old_text"' not in screen
    assert "x = 2" in screen.splitlines()[0], "the file window shows the edited buffer"
    last_user = [m for m in model.chat_requests()[0]["messages"] if m["role"] == "user"][-1]
    assert '<attachment kind="file" name="demo.py"' in last_user["content"]
    # zR opens the folds: the edit's diff block is there.
    tmux.keys("z", "R")
    opened = tmux.wait_for("the unfolded diff", lambda s: "│ -x = 1" in s and "│ +x = 2" in s)
    tmux.keys("z", "M")
    tmux.keys("g", "u")
    # The buffer changes (workspace/applyEdit) before claw.undoTurn answers: wait for both.
    tmux.wait_for(
        "gu to undo the turn",
        lambda s: s.splitlines()[0].startswith("x = 1") and "undid the last turn" in s,
    )
    if os.environ.get("CLAW_UPDATE_SCREENSHOT"):
        SCREEN_TARGET.parent.mkdir(parents=True, exist_ok=True)
        SCREEN_TARGET.write_text(
            "Neovim chat buffer in a 120x40 terminal (tmux capture-pane), from\n"
            "tests/neovim/test_tmux.py: the @ completion popup, then the finished turn with\n"
            "its folds opened (zR).\n\n" + popup + "\n" + "-" * 120 + "\n\n" + opened
        )
    assert workspace.joinpath("demo.py").read_text() == "x = 1\n", (
        "nothing was saved behind the user's back"
    )
