"""Helpers for driving the real claw-lsp server process with pytest-lsp."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features

SERVER_COMMAND = [sys.executable, "-m", "claw_lsp"]

# The claw plugins declare claw capabilities (they send initializationOptions.clientCapabilities;
# `experimental.claw` is the same declaration): they show claw/event themselves, so code actions
# run in the foreground. Clients without it are plain (tests/e2e/test_plain_clients.py).
PLUGIN = {"claw": {"events": True}}
# Client capability profiles of the two first-class editors (both declare window.showMessage:
# approvals come as dialogs; plain clients are in tests/e2e/test_plain_clients.py).
VSCODE_LIKE = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        configuration=True,
        workspace_folders=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            change_annotation_support=types.ChangeAnnotationsSupportOptions(groups_on_label=True),
            resource_operations=[
                types.ResourceOperationKind.Create,
                types.ResourceOperationKind.Rename,
                types.ResourceOperationKind.Delete,
            ],
        ),
    ),
    window=types.WindowClientCapabilities(
        work_done_progress=True, show_message=types.ShowMessageRequestClientCapabilities()
    ),
    general=types.GeneralClientCapabilities(position_encodings=["utf-16"]),
    experimental=PLUGIN,
)
NEOVIM_LIKE = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        configuration=True,
        workspace_folders=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[
                types.ResourceOperationKind.Create,
                types.ResourceOperationKind.Rename,
                types.ResourceOperationKind.Delete,
            ],
        ),
    ),
    window=types.WindowClientCapabilities(
        work_done_progress=True, show_message=types.ShowMessageRequestClientCapabilities()
    ),
    general=types.GeneralClientCapabilities(position_encodings=["utf-8", "utf-16"]),
    experimental=PLUGIN,
)


def fixed_converter() -> Any:
    """lsprotocol 2025.0.0 structures a CodeAction carrying a command as a Command (TESTING.md)."""
    converter = default_converter()
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007
        lambda obj, _: converter.structure(
            obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        ),
    )
    return converter


def client_factory() -> LanguageClient:
    client = LanguageClient(converter_factory=fixed_converter)
    register_lsp_features(client)
    return client


@dataclass
class Recorder:
    """Everything the server sent the client, plus scripted answers to its requests."""

    edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[types.ShowMessageRequestParams] = field(default_factory=list)
    messages: list[types.ShowMessageParams] = field(default_factory=list)
    progress: list[Any] = field(default_factory=list)
    approval_answers: list[str | None] = field(default_factory=list)
    # None: never answer; a callable runs first (the user types) and gives the answer.
    apply_answers: list[Any] = field(default_factory=list)
    configuration: dict[str, Any] = field(default_factory=dict)
    logs: list[Any] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    # Plain-client behaviour (issue 14). eglot_versions: an edit needs the buffer's exact
    # version (else it is refused) and each text edit bumps it by one, as eglot does.
    # change_delay: None holds didChange until flush_changes() (Emacs blocked in a request),
    # a number sends it that many seconds after the edit (eglot's idle timer).
    eglot_versions: bool = False
    # Neovim: versions (changedtick) move by 2 per edit; an edit older than the buffer is
    # dropped silently and still answered `applied: true`.
    nvim_versions: bool = False
    change_delay: float | None = 0.0
    held_changes: list[types.DidChangeTextDocumentParams] = field(default_factory=list)
    shown_documents: list[types.ShowDocumentParams] = field(default_factory=list)
    progress_created: list[Any] = field(default_factory=list)
    apply_answered_at: list[float] = field(default_factory=list)
    event_times: list[float] = field(default_factory=list)  # monotonic, one per event

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


def server_env(base_url: str, state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CLAW_"))}
    env.update(
        {
            "OPENAI_BASE_URL": base_url,
            "OPENAI_MODEL": "scripted",
            "OPENAI_API_KEY": "sk-test-SECRET-0123456789",
            "CLAW_STATE_DIR": str(state_dir),
            "XDG_CONFIG_HOME": str(state_dir / "xdg-config"),
        }
    )
    env.update(extra)
    return env


class ClawSession:
    """A running claw-lsp subprocess with a recording client."""

    def __init__(self, client: LanguageClient, recorder: Recorder, folders: list[Path]) -> None:
        self.client = client
        self.recorder = recorder
        self.folders = folders

    async def command(
        self,
        name: str,
        argument: Any = None,
        *,
        raw_arguments: Any = None,
        token: str | None = None,
    ) -> Any:
        arguments = raw_arguments if raw_arguments is not None else [argument or {}]
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=arguments, work_done_token=token)
        )

    async def command_with_id(
        self, msg_id: str, name: str, argument: Any, token: str | None = None
    ) -> Any:
        """A command whose JSON-RPC id we choose, so a test can send $/cancelRequest for it."""
        params = types.ExecuteCommandParams(
            command=name, arguments=[argument], work_done_token=token
        )
        return await self.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id
        )

    def cancel_request(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def ask(self, prompt: str, **extra: Any) -> dict[str, Any]:
        return await self.command("claw.ask", {"prompt": prompt, **extra})

    def open(
        self, path: Path, text: str | None = None, version: int = 1, language: str = "python"
    ) -> str:
        uri = path.as_uri()
        content = path.read_text() if text is None else text
        client_docs(self.client)[uri] = {"text": content, "version": version}
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=version, text=content
                )
            )
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        client_docs(self.client)[uri] = {"text": text, "version": version}
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


async def start_claw(
    folders: list[Path],
    env: dict[str, str],
    *,
    capabilities: types.ClientCapabilities = VSCODE_LIKE,
    init_options: dict[str, Any] | None = None,
    recorder: Recorder | None = None,
    client_info: types.ClientInfo | None = None,
) -> ClawSession:
    recorder = recorder or Recorder()
    client = LanguageClient(converter_factory=fixed_converter)

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log_message(params: Any) -> None:
        recorder.logs.append(params)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: Any) -> None:
        recorder.diagnostics[params.uri] = params.diagnostics

    docs: dict[str, str] = {}

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    async def apply_edit(params: types.ApplyWorkspaceEditParams) -> Any:
        recorder.edits.append(params)
        answer = recorder.apply_answers.pop(0) if recorder.apply_answers else True
        if callable(answer):
            answer = answer(params)
        if answer is None:
            import asyncio

            await asyncio.sleep(3600)
        if answer and recorder.eglot_versions and not _versions_match(client, params):
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
        if answer and recorder.nvim_versions and not _versions_match(client, params):
            return types.ApplyWorkspaceEditResult(applied=True)  # "Buffer newer than edits"
        if answer:
            _mirror_edit(client, params, docs, recorder)
        import time

        recorder.apply_answered_at.append(time.monotonic())
        return types.ApplyWorkspaceEditResult(applied=bool(answer))

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    async def show_message_request(params: types.ShowMessageRequestParams) -> Any:
        recorder.approvals.append(params)
        title = recorder.approval_answers.pop(0) if recorder.approval_answers else None
        if title == "never":  # the user is away: never answer
            import asyncio

            await asyncio.sleep(3600)
        return None if title is None else types.MessageActionItem(title=title)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show_message(params: types.ShowMessageParams) -> None:
        recorder.messages.append(params)

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[Any]:
        return [recorder.configuration for _ in params.items]

    @client.feature("claw/event")
    def claw_event(params: Any) -> None:
        import time

        recorder.events.append(_plain(params))
        recorder.event_times.append(time.monotonic())

    @client.feature("claw/status")
    def claw_status(params: Any) -> None:
        recorder.statuses.append(_plain(params))

    @client.feature(types.PROGRESS)
    def progress(params: Any) -> None:
        recorder.progress.append(params)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def progress_create(params: Any) -> None:
        recorder.progress_created.append(params.token)
        return None

    @client.feature(types.WINDOW_SHOW_DOCUMENT)
    def show_document(params: types.ShowDocumentParams) -> types.ShowDocumentResult:
        recorder.shown_documents.append(params)
        return types.ShowDocumentResult(success=True)

    await client.start_io(*SERVER_COMMAND, env=env)
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
            initialization_options=init_options,
            client_info=client_info,
        )
    )
    encoding = result.capabilities.position_encoding or "utf-16"
    client._claw_encoding = str(encoding)  # type: ignore[attr-defined]
    session = ClawSession(client, recorder, folders)
    session.docs = docs  # type: ignore[attr-defined]
    return session


def _plain(params: Any) -> Any:
    """pygls hands custom notifications over as namedtuples (pygls.protocol.Object)."""
    if hasattr(params, "_asdict"):
        return {k: _plain(v) for k, v in params._asdict().items()}
    if isinstance(params, dict):
        return {k: _plain(v) for k, v in params.items()}
    if isinstance(params, list | tuple):
        return [_plain(v) for v in params]
    return params


def _versions_match(client: LanguageClient, params: types.ApplyWorkspaceEditParams) -> bool:
    for change in params.edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.version is not None:
            doc = client_docs(client).get(change.text_document.uri)
            if doc is not None and doc["version"] != change.text_document.version:
                return False
    return True


def _send_change(
    client: LanguageClient, recorder: Recorder | None, change: types.DidChangeTextDocumentParams
) -> None:
    delay = recorder.change_delay if recorder is not None else 0.0
    if recorder is not None and delay is None:
        recorder.held_changes.append(change)
    elif delay:
        import asyncio

        asyncio.get_running_loop().call_later(delay, client.text_document_did_change, change)
    else:
        client.text_document_did_change(change)


def flush_changes(client: LanguageClient, recorder: Recorder) -> None:
    """The held didChange notifications go out (Emacs went idle)."""
    held, recorder.held_changes[:] = list(recorder.held_changes), []
    for change in held:
        client.text_document_did_change(change)


def _mirror_edit(
    client: LanguageClient,
    params: types.ApplyWorkspaceEditParams,
    docs: dict[str, str],
    recorder: Recorder | None = None,
) -> None:
    """Act like an editor: apply the edit to open documents and send didChange, and write
    unopened files to disk (as VS Code's refactoring autosave would)."""
    from claw_lsp.edits.positions import Position, PositionEncoding, Range
    from claw_lsp.edits.textdiff import TextEdit, apply_edits

    for change in params.edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            path = Path(change.uri.removeprefix("file://"))
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("")
            continue
        if isinstance(change, types.DeleteFile):
            Path(change.uri.removeprefix("file://")).unlink(missing_ok=True)
            continue
        if not isinstance(change, types.TextDocumentEdit):
            continue
        uri = change.text_document.uri
        path = Path(uri.removeprefix("file://"))
        doc = client_docs(client).get(uri)
        base = doc["text"] if doc else (path.read_text() if path.exists() else "")
        edits = [
            TextEdit(
                Range(
                    Position(e.range.start.line, e.range.start.character),
                    Position(e.range.end.line, e.range.end.character),
                ),
                e.new_text,
            )
            for e in change.edits
        ]
        encoding = PositionEncoding(getattr(client, "_claw_encoding", "utf-16"))
        new = apply_edits(base, edits, encoding)
        if doc:
            eglot = recorder is not None and recorder.eglot_versions
            nvim = recorder is not None and recorder.nvim_versions
            doc["version"] += len(change.edits) if eglot else 2 if nvim else 1
            doc["text"] = new
            _send_change(
                client,
                recorder,
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=uri, version=doc["version"]
                    ),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=new)],
                ),
            )
        else:
            path.write_text(new)


def client_docs(client: LanguageClient) -> dict[str, dict[str, Any]]:
    if not hasattr(client, "_claw_docs"):
        client._claw_docs = {}  # type: ignore[attr-defined]
    return client._claw_docs  # type: ignore[attr-defined]
