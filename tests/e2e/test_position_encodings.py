"""Edits land exactly in every negotiated position encoding (LP-18), with emoji, CJK, CRLF."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.support.lsp import client_docs, server_env, start_claw
from tests.support.scripted_model import ScriptedModel

TEXT = "# 🎉 fête\r\nname = '世界🌍'\r\nprint(name)  # 👋\r\n"


@pytest.mark.parametrize("offered", [["utf-8"], ["utf-16"], ["utf-32"], ["utf-8", "utf-16"], None])
async def test_edit_lands_exactly(
    model: ScriptedModel, workspace: Path, state_dir: Path, offered: list[str] | None
) -> None:
    path = workspace / "uni.py"
    path.write_bytes(TEXT.encode())
    model.add(
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "uni.py",
                        "old_text": "'世界🌍'",
                        "new_text": "'世界🌏!'",
                    },
                }
            ]
        },
        {"text": "ok"},
    )
    caps = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
        general=types.GeneralClientCapabilities(position_encodings=offered),
    )
    claw = await start_claw(
        [workspace],
        server_env(model.base_url, state_dir),
        capabilities=caps,
        init_options={"tier": "write"},
    )
    try:
        uri = claw.open(path, text=TEXT)
        result = await claw.ask("globe", uri=uri)
    finally:
        await claw.client.shutdown_session()
    expected = (offered or ["utf-16"])[0]
    assert claw.client._claw_encoding == expected  # type: ignore[attr-defined]
    assert result["stopReason"] == "done"
    assert client_docs(claw.client)[uri]["text"] == TEXT.replace("'世界🌍'", "'世界🌏!'")
    (edit,) = claw.recorder.edits
    (text_edit,) = edit.edit.document_changes[0].edits
    assert text_edit.range.start.line == 1
