"""Custom slash commands, skills and @-mentions through the real server and the CLI, against
the scripted model: what lands in the model request is exactly what the files say (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.calls import call, tool_results
from tests.support.lsp import server_env, start_claw
from tests.support.scripted_model import ScriptedModel


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def last_user(request: dict) -> str:
    return [m for m in request["messages"] if m["role"] == "user"][-1]["content"]


async def test_a_custom_command_expands_verbatim_and_workspace_frontmatter_changes_nothing(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    write(
        workspace / ".claude/commands/review.md",
        "---\ndescription: Review a file\nargument-hint: FILE [FOCUS]\n---\n"
        "Review $1 with focus on $2.\nAll: $ARGUMENTS",
    )
    write(
        workspace / ".claude/commands/ops/escalate.md",
        "---\ntier: unsafe\napprovals: ask\nmodel: other\nallowed-tools: Write, Bash\n"
        "permissions: {allow: [shell]}\n---\nRun the deploy.",
    )
    write(workspace / ".claude/commands/help.md", "I am not help")
    model.add({"text": "reviewed"}, {"text": "will not"}, call("shell", command="touch x"),
              {"text": "done"})  # fmt: skip
    env = server_env(model.base_url, state_dir)
    claw = await start_claw([workspace], env, init_options={"approvals": "deny"})
    try:
        listed = await claw.command("claw.commands", {})
        reviewed = await claw.ask("/review app.py errors")
        await claw.ask("/ops:escalate")
        helped = await claw.ask("/help")
    finally:
        await claw.client.shutdown_session()
    by_name = {entry["name"]: entry for entry in listed}
    assert by_name["review"]["argumentHint"] == "FILE [FOCUS]"
    assert by_name["review"]["source"] == "workspace" and by_name["help"]["source"] == "built-in"
    assert "ops:escalate" in by_name
    assert reviewed["stopReason"] == "done"
    first, second = model.chat_requests()[:2]
    assert last_user(first).endswith("Review app.py with focus on errors.\nAll: app.py errors")
    # Read-only tier, approvals off: the command's allowed-tools narrow to nothing it asked for
    # (write_file and shell are not offered at all), and its model and tier keys are ignored.
    assert second["model"] == "scripted"
    assert [t["function"]["name"] for t in second.get("tools", [])] == []
    assert not (workspace / "x").exists()
    assert "I am not help" not in helped["text"] and "/help is a built-in command" in helped["text"]
    assert "[workspace:" in helped["text"]


async def test_a_skill_body_reaches_the_model_only_after_the_skill_tool(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    write(
        workspace / ".claude/skills/release/SKILL.md",
        "---\nname: release\ndescription: How we cut a release\n---\nSTEP-ONE tag; STEP-TWO push",
    )
    write(workspace / ".claude/skills/release/checklist.md", "- [ ] changelog\n")
    load = {"tool_calls": [{"name": "skill", "arguments": {"name": "release"}}]}
    model.add(load, {"text": "ok"}, {"text": "again"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        await claw.ask("cut a release")
        await claw.ask("and again")
        skills = await claw.ask("/skills")
    finally:
        await claw.client.shutdown_session()
    requests = model.chat_requests()
    assert "STEP-ONE" not in json.dumps(requests[0])
    skill_tools = [t for t in requests[0]["tools"] if t["function"]["name"] == "skill"]
    assert "release: How we cut a release" in skill_tools[0]["function"]["description"]
    assert "STEP-ONE tag" in tool_results(model)[0]
    assert ".claude/skills/release/checklist.md" in tool_results(model)[0]
    assert all(r["tools"] == requests[0]["tools"] for r in requests)  # byte-stable list
    assert all(r["messages"][0] == requests[0]["messages"][0] for r in requests)
    assert "release" in skills["text"]


async def test_mentions_attach_and_show_in_context_and_outside_paths_stay_literal(
    model: ScriptedModel, workspace: Path, state_dir: Path, tmp_path: Path
) -> None:
    write(workspace / "notes.txt", "".join(f"note {n}\n" for n in range(1, 50)))
    write(tmp_path / "outside.txt", "OUTSIDE-SECRET\n")
    model.add({"text": "first answer"}, {"text": "seen"})
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        first = await claw.ask("hello")
        uri = claw.open(workspace / "app.py")
        selection = {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 9}}
        second = await claw.ask(
            f"compare @notes.txt:3-4 with @selection, @session:{first['session']}, "
            "@../outside.txt and @/etc/passwd",
            uri=uri,
            range=selection,
            session="new",
        )
        context = await claw.ask("/context", session=second["session"])
    finally:
        await claw.client.shutdown_session()
    sent = last_user(model.chat_requests()[1])
    assert '<attachment kind="file" name="notes.txt:3-4"' in sent
    assert "     3\tnote 3\n     4\tnote 4\n</attachment>" in sent and "note 5" not in sent
    assert '<attachment kind="selection" name="selection">\ngreet\n</attachment>' in sent
    assert "first answer" in sent
    assert "OUTSIDE-SECRET" not in sent and "root:" not in sent
    assert sent.endswith("@../outside.txt and @/etc/passwd")  # the prompt stays as typed
    notices = [e["message"] for e in claw.recorder.events if e["kind"] == "notice"]
    assert sum("left as text" in n for n in notices) == 2
    attached = [e for e in claw.recorder.events if e["kind"] == "attachment"]
    assert {e["name"] for e in attached} >= {"notes.txt:3-4", "selection"}
    assert (
        "@notes.txt:3-4 (file)" in context["text"] and "@selection (selection)" in context["text"]
    )


async def test_mention_completion_ranks_files_and_hides_credentials(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    write(workspace / "src/handlers/user_api.py", "")
    write(workspace / "src/users.py", "")
    write(workspace / ".env", "TOKEN=x\n")
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        found = await claw.command("claw.completeMentions", {"prefix": "@usapi"})
        everything = await claw.command("claw.completeMentions", {"prefix": "", "limit": 100})
    finally:
        await claw.client.shutdown_session()
    assert found[0]["name"] == "src/handlers/user_api.py"
    names = [item["name"] for item in everything]
    assert ".env" not in names and "src/" in names and "selection" in names


def test_the_cli_prints_what_was_attached(
    model: ScriptedModel, workspace: Path, state_dir: Path
) -> None:
    write(workspace / "README.md", "# Demo\nA tiny project.\n")
    model.add({"text": "It is a demo."})
    done = subprocess.run(
        [sys.executable, "-m", "claw_lsp", "ask", "What is this, per @README.md?",
         "--folder", str(workspace)],
        env=server_env(model.base_url, state_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "attached @README.md (file" in done.stderr
    assert "A tiny project." in last_user(model.chat_requests()[0])
