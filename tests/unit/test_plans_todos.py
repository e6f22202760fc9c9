"""The todo validator, the plan-step parser (property tests) and the stored-list reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claw_lsp.agent.todos import reminder, todos_from_plan, todos_from_records
from claw_lsp.tools.base import ToolError
from claw_lsp.tools.todo import MAX_CONTENT_CHARS, MAX_TODOS, TODO_WRITE, to_todos


def validate(todos: object) -> list[dict[str, str]]:
    return [t.to_wire() for t in to_todos(TODO_WRITE.validate({"todos": todos}))]


def test_ids_are_kept_or_numbered_and_bad_lists_are_refused() -> None:
    listed = validate(
        [
            {"content": "a", "status": "pending", "id": "2"},
            {"content": "b", "status": "in_progress"},
            {"content": "c", "status": "completed"},
        ]
    )
    assert [t["id"] for t in listed] == ["2", "1", "3"]
    for bad in (
        [{"content": "a", "status": "in_progress"}, {"content": "b", "status": "in_progress"}],
        [{"content": "a", "status": "done"}],
        [{"content": "", "status": "pending"}],
        [{"content": "a", "status": "pending", "extra": 1}],
        [
            {"content": "a", "status": "pending", "id": "x"},
            {"content": "b", "status": "pending", "id": "x"},
        ],
        [{"content": "a", "status": "pending"}] * (MAX_TODOS + 1),
        "not a list",
    ):
        with pytest.raises(ToolError):
            validate(bad)
    assert reminder([]) is None


@given(st.text(max_size=2000))
def test_any_plan_gives_a_valid_seed(plan: str) -> None:
    todos = todos_from_plan(plan)
    assert 1 <= len(todos) <= MAX_TODOS
    assert [t.id for t in todos] == [str(n) for n in range(1, len(todos) + 1)]
    for todo in todos:
        assert todo.status in ("pending", "completed") and len(todo.content) <= MAX_CONTENT_CHARS
    # The seed is a valid list for todo_write (what the model will update).
    assert validate([t.to_wire() for t in todos]) == [t.to_wire() for t in todos]


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]),
            min_size=1,
            max_size=80,
        ).filter(lambda s: s.strip()),
        min_size=1,
        max_size=20,
    )
)
def test_numbered_and_bulleted_steps_round_trip(steps: list[str]) -> None:
    plan = "# Plan\n\n" + "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))
    assert [t.content for t in todos_from_plan(plan)] == [" ".join(s.split()) for s in steps]
    boxed = "\n".join(f"- [x] {s}" for s in steps)
    assert {t.status for t in todos_from_plan(boxed)} == {"completed"}


def test_stored_lists_are_read_defensively() -> None:
    records = [
        {"type": "todos", "todos": [{"id": "1", "content": "old", "status": "pending"}]},
        {"type": "message", "message": {"role": "user", "content": "x"}},
        {
            "type": "todos",
            "todos": [{"id": "1", "content": "new", "status": "completed"}, {"id": 2}, "junk"],
        },
    ]
    assert [t.to_wire() for t in todos_from_records(records)] == [
        {"id": "1", "content": "new", "status": "completed"}
    ]
    assert todos_from_records([{"type": "todos", "todos": "bad"}]) == []


def test_subagent_settings_and_bounds() -> None:
    from claw_lsp.config import ConfigError, resolve_settings

    defaults = resolve_settings()
    assert (defaults.subagent_max_turns, defaults.subagent_depth, defaults.subagent_parallel) == (
        15,
        1,
        1,
    )
    chosen = resolve_settings(user_file={"subagent_parallel": 2}, init_options={"subagentDepth": 0})
    assert (chosen.subagent_parallel, chosen.subagent_depth) == (2, 0)
    for bad in ({"subagentDepth": 4}, {"subagentMaxTurns": 0}, {"subagentParallel": "many"}):
        with pytest.raises(ConfigError):
            resolve_settings(init_options=bad)


def test_agent_files_narrow_and_never_replace_builtins(tmp_path: Path) -> None:
    from claw_lsp.agent.subagent_types import agent_types, tool_names
    from claw_lsp.context.prompt_files import discover_agent_files

    folder, home, xdg = tmp_path / "ws", tmp_path / "home", tmp_path / "xdg"
    (folder / ".claude" / "agents").mkdir(parents=True)
    (home / ".claude" / "agents").mkdir(parents=True)
    (folder / ".claude" / "agents" / "explore.md").write_text("---\ntools: Bash\n---\nwiden!\n")
    (folder / ".claude" / "agents" / "rev.md").write_text("---\ntools: [Read, grep]\n---\nws\n")
    (home / ".claude" / "agents" / "rev.md").write_text("---\ndescription: mine\n---\nuser\n")
    outside = tmp_path / "outside.md"
    outside.write_text("---\nname: sneaky\n---\nx\n")
    (folder / ".claude" / "agents" / "link.md").symlink_to(outside)
    found = {f.name: f for f in discover_agent_files(folder, home=home, xdg=xdg)}
    assert found["rev"].scope == "user" and "sneaky" not in found
    assert tool_names("Read, Grep, LS, Bash") == {"read_file", "grep", "list_dir", "shell"}
    assert tool_names(["edit_file"]) == {"edit_file"} and tool_names(None) is None
    assert tool_names(7) == frozenset()  # malformed: narrowed to nothing
    types = agent_types(folder)
    assert types["explore"].read_only and types["explore"].scope == "built-in"


async def test_subagent_slots_bound_how_many_children_run_at_once() -> None:
    import asyncio

    from claw_lsp.agent.subagents import SubagentSlots

    slots = SubagentSlots()
    running: list[int] = []
    peak: list[int] = []

    async def child(limit: int) -> None:
        async with slots.hold(limit):
            running.append(1)
            peak.append(len(running))
            await asyncio.sleep(0.01)
            running.pop()

    await asyncio.gather(*(child(1) for _ in range(4)))
    assert max(peak) == 1
    peak.clear()
    await asyncio.gather(*(child(3) for _ in range(6)))
    assert max(peak) == 3
