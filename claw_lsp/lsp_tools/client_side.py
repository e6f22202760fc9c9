"""The client side claw shows the language servers it runs: its capabilities, and the answer
to their `workspace/configuration` requests."""

from __future__ import annotations

from typing import Any

from lsprotocol import types


def answer_none(params: Any) -> None:
    return None


def configuration_section(settings: Any, section: str | None) -> Any:
    """workspace/configuration: the `settings` table, or a dotted part of it."""
    value = settings
    for part in section.split(".") if section else []:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# Positions in UTF-16 only (the LSP default, which every server supports); no applyEdit: a
# server never edits on its own, edits go through claw's tools and permissions.
CLIENT_CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        workspace_folders=True,
        apply_edit=False,
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        symbol=types.WorkspaceSymbolClientCapabilities(),
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(did_save=False),
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        definition=types.DefinitionClientCapabilities(link_support=True),
        references=types.ReferenceClientCapabilities(),
        hover=types.HoverClientCapabilities(
            content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
        ),
        rename=types.RenameClientCapabilities(prepare_support=False),
    ),
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
)
