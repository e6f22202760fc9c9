"""initialize / initialized / configuration / workspace folders / document state / shutdown,
and the parent-process watchdog."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from claw_lsp.permissions.paths import PathDenied, make_root
from claw_lsp.server.state import ClawServer

if TYPE_CHECKING:
    from claw_lsp.agent.service import AgentService

log = logging.getLogger(__name__)
PARENT_POLL_S = 2.0
SHUTDOWN_STOP_S = 8.0


def register(server: ClawServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: ClawServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        ls.layers["init_options"] = dict(options) if isinstance(options, dict) else {}
        ls.resolve()
        caps = ls.layers["init_options"].get("clientCapabilities") or {}
        experimental = getattr(params.capabilities, "experimental", None) or {}
        claw_caps = experimental.get("claw", {}) if isinstance(experimental, dict) else {}
        # The claw plugins (VS Code, claw.nvim) say what they implement; other clients are plain.
        ls.plain_client = not (isinstance(caps, dict) and caps) and not claw_caps
        ls.editor.can_save_documents = bool(
            (isinstance(caps, dict) and caps.get("saveDocuments"))
            or (isinstance(claw_caps, dict) and claw_caps.get("saveDocuments"))
        )
        if params.client_info:
            ls.client_info = {
                "name": params.client_info.name,
                "version": params.client_info.version,
            }
            ls.editor.unversioned_when_pending = params.client_info.name.lower() == "neovim"
        folders = list(params.workspace_folders or [])
        if not folders and params.root_uri:
            folders = [types.WorkspaceFolder(uri=params.root_uri, name="root")]
        for folder in folders:
            try:
                ls.claw_workspace.add(make_root(folder.uri, folder.name))
            except PathDenied as exc:
                log.warning("ignoring workspace folder %s: %s", folder.uri, exc)
        ls.on_service_built = lambda service: _watch_status(ls, service)
        # The service (and its imports) is built right after this response is sent, or by
        # whatever needs it first: `initialize` answers without waiting for it (issue 9).
        ls.service_wanted = True
        asyncio.get_event_loop().call_soon(ls.build_service)
        asyncio.get_event_loop().call_soon(_warm_model_client)  # issue 22: fast first request
        if params.process_id:
            asyncio.get_event_loop().create_task(_watch_parent(ls, params.process_id))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ClawServer, params: types.InitializedParams) -> None:
        if ls.config_error:
            ls.warn(f"configuration error: {ls.config_error}")
        await _pull_configuration(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: ClawServer, params: types.DidChangeConfigurationParams
    ) -> None:
        await _pull_configuration(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: ClawServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            ls.claw_workspace.remove(removed.uri)
        for added in params.event.added or []:
            try:
                ls.claw_workspace.add(make_root(added.uri, added.name))
            except PathDenied as exc:
                log.warning("ignoring workspace folder %s: %s", added.uri, exc)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ClawServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.editor.dirty.add(params.text_document.uri)
        ls.editor.reconcile(params.text_document.uri)  # check it against our applied edits
        ls.on_document("change", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ClawServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.editor.dirty.discard(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ClawServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.editor.dirty.discard(params.text_document.uri)
        ls.editor.overlays.drop(params.text_document.uri)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: ClawServer, *args: Any) -> None:
        ls.on_shutdown()
        if ls.service:
            for state in ls.service.folders.values():
                if state.running:
                    state.running.cancel()
            try:  # MCP servers get their orderly stop; `exit` kills whatever is left
                await asyncio.wait_for(ls.service.aclose(), SHUTDOWN_STOP_S)
            except Exception:
                log.warning("stopping the MCP servers at shutdown failed", exc_info=True)

    server.protocol.on_exit = lambda code: kill_children()


def _warm_model_client() -> None:
    # Imported here: the server module loads no model client code before initialize answers.
    from claw_lsp.llm.warm import warm_model_client_in_background

    warm_model_client_in_background()


async def _pull_configuration(ls: ClawServer) -> None:
    caps = ls.client_capabilities
    if not (caps and caps.workspace and caps.workspace.configuration):
        return
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="claw")])
            ),
            ls.settings.client_request_timeout,
        )
    except Exception:
        log.info("workspace/configuration failed or timed out")
        return
    section = result[0] if result else None
    ls.layers["workspace_config"] = dict(section) if isinstance(section, dict) else {}
    ls.resolve()
    if ls.config_error:
        ls.warn(f"configuration error: {ls.config_error}")


def _watch_status(ls: ClawServer, service: AgentService) -> None:
    service.on_status_change = lambda state: _notify_status(ls, state)


def _notify_status(ls: ClawServer, state: Any) -> None:
    if ls.service is None:
        return
    try:
        status = ls.service.status(state.root.uri)
    except Exception:
        return
    payload = {k: status[k] for k in ("folder", "tier", "busy", "session", "approvals", "editMode")}
    # Issue 20: the chat panes' context meter (contextTokens, contextWindow, compactThreshold).
    try:
        from claw_lsp.agent.pane_info import context_fields

        payload.update(context_fields(ls.service, state.root.uri))
    except Exception:
        pass  # the meter is optional; the status notification is not
    ls.protocol.notify("claw/status", payload)


async def _watch_parent(ls: ClawServer, pid: int) -> None:
    """The editor may die without closing our stdin: exit when its process is gone."""
    while True:
        await asyncio.sleep(PARENT_POLL_S)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.warning("parent process %s is gone; exiting", pid)
            kill_children()
            os._exit(1)
        except PermissionError:
            continue


def kill_children() -> None:
    """Our children run in their own process groups (shell commands, the embedded model):
    kill each child's whole group so nothing is orphaned."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            if int(fields[1]) != me:
                continue
            pgid = os.getpgid(int(entry))
            if pgid == os.getpgrp():
                os.kill(int(entry), signal.SIGKILL)
            else:
                os.killpg(pgid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue
