"""The custom wire surface (PROTOCOL.md): command and notification names, stop reasons.

The parameter models live in params.py: they need pydantic, which is kept off the
start-up path so that `initialize` answers fast."""

from __future__ import annotations

ASK = "claw.ask"
CANCEL = "claw.cancel"
SESSIONS = "claw.sessions"
HISTORY = "claw.history"
UNDO_TURN = "claw.undoTurn"
SET_TIER = "claw.setTier"
ACCEPT_PROPOSAL = "claw.acceptProposal"
REJECT_PROPOSAL = "claw.rejectProposal"
NEW_SESSION = "claw.newSession"
RESUME_SESSION = "claw.resumeSession"
FORK_SESSION = "claw.forkSession"
EXPORT_SESSION = "claw.exportSession"
DELETE_SESSION = "claw.deleteSession"
STATUS = "claw.status"
DOCTOR = "claw.doctor"
PROPOSALS = "claw.proposals"
COMMANDS = "claw.commands"
COMPLETE_MENTIONS = "claw.completeMentions"
MCP_SERVERS = "claw.mcpServers"
TODOS = "claw.todos"  # issue 18
ACCEPT_PLAN = "claw.acceptPlan"  # issue 18
MODELS = "claw.models"  # issue 20: the chat panes' model pickers
ANSWER_APPROVAL = "claw.answerApproval"  # issue 14: approvals as diagnostics (plain clients)

ALL_COMMANDS = [
    ASK,
    CANCEL,
    SESSIONS,
    HISTORY,
    UNDO_TURN,
    SET_TIER,
    ACCEPT_PROPOSAL,
    REJECT_PROPOSAL,
    NEW_SESSION,
    RESUME_SESSION,
    FORK_SESSION,
    EXPORT_SESSION,
    DELETE_SESSION,
    STATUS,
    DOCTOR,
    PROPOSALS,
    COMMANDS,
    COMPLETE_MENTIONS,
    MCP_SERVERS,
    TODOS,
    ACCEPT_PLAN,
    MODELS,
    ANSWER_APPROVAL,
]

EVENT_NOTIFICATION = "claw/event"
STATUS_NOTIFICATION = "claw/status"
SAVE_DOCUMENTS_REQUEST = "claw/saveDocuments"
LSP_REQUEST = "claw/lsp"  # server -> client: {method, params} for the editor's language servers
DIAGNOSTICS_NOTIFICATION = "claw/diagnostics"  # client -> server: {uri, version, diagnostics}


class InvalidParams(ValueError):
    """Bad command arguments; the message names the field (sent as JSON-RPC -32602)."""
