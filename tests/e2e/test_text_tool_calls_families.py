"""Every tool-call family end to end (issue 15): a scripted model with a realistic model id
writes its call as plain content in its own family's syntax, the real server runs it through
the normal path, and the next request carries the tool result. What the editor is streamed
never shows the call's markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claw_lsp.llm.toolcalls.render import RENDERERS
from tests.support.lsp import ClawSession, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

MODEL_IDS = {
    "hermes": "Qwen/Qwen2.5-7B-Instruct",
    "qwen3_coder": "Qwen/Qwen3-Coder-30B-A3B-Instruct",
    "functionary": "meetkai/functionary-medium-v3.1",
    "mistral": "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
    "llama3": "meta-llama/Llama-3.1-8B-Instruct",
    "pythonic": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    "glm": "zai-org/GLM-4.5-Air",
    "harmony": "openai/gpt-oss-20b",
    "deepseek": "deepseek-ai/DeepSeek-V3.1",
    "kimi_k2": "moonshotai/Kimi-K2-Instruct",
    "command_r": "CohereForAI/c4ai-command-r-plus",
    "json": "scripted",
}
CALL = [("read_file", {"path": "app.py"})]
PROSE = "Let me look at the file."


async def ask(
    model: ScriptedModel, workspace: Path, state_dir: Path, model_id: str, *prompts: str
) -> tuple[list[dict[str, Any]], ClawSession]:
    model.model = model_id
    env = server_env(model.base_url, state_dir, OPENAI_MODEL=model_id)
    claw = await start_claw([workspace], env)
    try:
        results = [await claw.ask(prompt) for prompt in prompts]
    finally:
        await claw.client.shutdown_session()
    return results, claw


def streamed_text(claw: ClawSession) -> str:
    return "".join(e.get("delta", "") for e in claw.recorder.events if e["kind"] == "text")


@pytest.mark.parametrize("family", sorted(MODEL_IDS))
async def test_each_family_runs_a_call_written_as_text(model, workspace, state_dir, family):
    content = f"{PROSE}\n{RENDERERS[family](CALL)}"
    model.add({"text": content, "chunks": 9}, {"text": "It greets people."})
    (result,), claw = await ask(model, workspace, state_dir, MODEL_IDS[family], "what is it?")
    assert result["stopReason"] == "done" and result["toolCalls"] == 1
    (call,) = [e for e in claw.recorder.events if e["kind"] == "toolCall"]
    assert call["name"] == "read_file" and call["arguments"] == {"path": "app.py"}
    first, second = model.chat_requests()
    tool_results = [m["content"] for m in second["messages"] if m["role"] == "tool"]
    assert "return 'hello ' + name" in tool_results[0]
    (assistant,) = [m for m in second["messages"] if m["role"] == "assistant"]
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"path": "app.py"}'
    assert assistant["content"] == PROSE  # history holds the call, not its markup
    shown = streamed_text(claw)
    assert shown.startswith(PROSE) and "read_file" not in shown and "app.py" not in shown


async def test_the_first_text_call_fixes_the_sessions_family(model, workspace, state_dir):
    hermes = RENDERERS["hermes"](CALL)
    mistral = RENDERERS["mistral"](CALL)
    model.add({"text": hermes}, {"text": "First done."}, {"text": mistral}, {"text": hermes})
    model.add({"text": "Second done."})
    results, claw = await ask(model, workspace, state_dir, "scripted", "one", "two", "three")
    # Unknown model: every parser runs and the Hermes call is run; from then on this session
    # reads Hermes forms only, so the Mistral markup stays text.
    assert [r["toolCalls"] for r in results] == [1, 0, 1]
    assert results[1]["text"] == mistral


async def test_a_chat_template_makes_the_family_sure(model, workspace, state_dir):
    # llama.cpp's /props names the template: a Mistral one, so Hermes markup is no call.
    model.routes["/props"] = {"chat_template": "{{ '[AVAILABLE_TOOLS]' }}...[TOOL_CALLS]"}
    model.add({"text": RENDERERS["hermes"](CALL)}, {"text": RENDERERS["mistral"](CALL)})
    model.add({"text": "Done."})
    results, claw = await ask(model, workspace, state_dir, "scripted", "one", "two", "/status")
    assert [r["toolCalls"] for r in results[:2]] == [0, 1]
    status = results[2]["text"]
    assert "mistral (sure: the llama.cpp /props chat template)" in status
    assert "parsers: mistral, json only" in status


async def test_text_mode_speaks_the_models_dialect(model, workspace, state_dir):
    model.add({"text": f"{PROSE}\n{RENDERERS['mistral'](CALL)}"}, {"text": "It greets."})
    model_id = MODEL_IDS["mistral"]
    env = server_env(model.base_url, state_dir, OPENAI_MODEL=model_id)
    model.model = model_id
    claw = await start_claw([workspace], env, init_options={"toolMode": "text"})
    try:
        result = await claw.ask("what is it?")
    finally:
        await claw.client.shutdown_session()
    assert result["toolCalls"] == 1
    first, second = model.chat_requests()
    assert "tools" not in first
    system = first["messages"][0]["content"]
    assert "[AVAILABLE_TOOLS]" in system and '"name": "read_file"' in system
    assert second["messages"][0]["content"] == system  # byte-stable
    assistant = second["messages"][-2]
    assert assistant["content"].endswith(RENDERERS["mistral"](CALL))


async def test_doctor_names_the_family_and_its_parsers(model, workspace, state_dir):
    model.models_payload = {"data": [{"id": "scripted", "owned_by": "llamacpp"}]}
    model.routes["/props"] = {"chat_template": "<tool_call>\n<function=x>\n<parameter=y>"}
    model.add({"text": "It is sunny."}, {"text": "Sunny."})  # the probe: no tool calling
    claw = await start_claw([workspace], server_env(model.base_url, state_dir))
    try:
        doctor = await claw.command("claw.doctor", {})
    finally:
        await claw.client.shutdown_session()
    assert doctor["report"]["toolCalls"]["family"] == "qwen3_coder"
    assert doctor["report"]["toolCalls"]["parsers"] == ["qwen3_coder", "hermes", "json"]
    assert (
        "Tool-call family: qwen3_coder (sure: the llama.cpp /props chat template); "
        "parsers: qwen3_coder, hermes, json only"
    ) in doctor["text"]
