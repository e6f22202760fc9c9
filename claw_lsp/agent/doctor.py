"""`claw-lsp doctor` and `claw.doctor`: what the backend can do, whether the sandbox works, and
whether each configured MCP server starts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from claw_lsp import __version__
from claw_lsp.config import Settings
from claw_lsp.llm.base import BackendError
from claw_lsp.llm.probe import format_report
from claw_lsp.llm.provider import EMBEDDED_NOTE, ModelProvider
from claw_lsp.llm.text_mode import choose_tool_mode
from claw_lsp.llm.toolcalls.detect import TextDialect, describe_line
from claw_lsp.mcp.manager import McpManager
from claw_lsp.mcp.status import doctor_report
from claw_lsp.permissions.sandbox import probe_sandbox


async def run_doctor(
    settings: Settings, models: ModelProvider, mcp: McpManager | None = None
) -> dict[str, Any]:
    result = await _backend_doctor(settings, models)
    if mcp is not None and (settings.mcp_servers or mcp.slots or mcp.workspace.roots):
        lines, rows, ok = await doctor_report(mcp)
        if rows or settings.mcp_servers:
            result["text"] += "\n" + "\n".join(lines)
            result["report"]["mcp"] = rows
            result["ok"] = result["ok"] and ok
    return result


async def _backend_doctor(settings: Settings, models: ModelProvider) -> dict[str, Any]:
    lines = [f"claw-lsp {__version__}"]
    report: dict[str, Any] = {"version": __version__}
    sandbox = probe_sandbox()
    report["sandbox"] = {"available": sandbox.available, "reason": sandbox.reason}
    lines.append(
        "Sandbox: "
        + (
            "bubblewrap works: shell commands run isolated (workspace writable, no network)"
            if sandbox.available
            else f"UNAVAILABLE ({sandbox.reason}): every shell command will need approval"
        )
    )
    lines.append(f"Tier: {settings.tier.value}, approvals: {settings.approvals}")
    # Keys no setting has (typos, old names) were ignored: say so rather than stay silent.
    report["settingsWarnings"] = list(settings.warnings)
    lines.extend(f"Settings: {warning}" for warning in settings.warnings)
    try:
        base_url, model = await models.endpoint(settings)
    except BackendError as exc:
        lines.append(f"Backend: {exc}")
        report["backend"] = {"configured": False, "error": str(exc)}
        return {"text": "\n".join(lines), "report": report, "ok": False}
    if not settings.base_url:
        lines.append(f"Backend: {EMBEDDED_NOTE}")
    # Cached per backend in the provider: a second doctor (or /status) costs no model call.
    probe = await models.probe(base_url, settings.api_key, model)
    n_ctx = models.embedded_context_window(base_url)
    if probe.context_window is None and n_ctx is not None:
        probe = replace(
            probe, context_window=n_ctx, context_source="n_ctx claw_lsp started it with"
        )
    lines.append(format_report(probe))
    report["backend"] = probe.to_dict()
    configured = settings.tool_mode
    # A connection already made keeps its mode (a byte-stable prompt); new ones follow the probe.
    mode = models.active_tool_mode(base_url, model) or choose_tool_mode(
        configured, probe.tool_calls
    )
    report["toolMode"] = {"configured": configured, "effective": mode}
    lines.append(
        f"Tool mode: {mode} (toolMode {configured}): "
        + (
            "tools are described in the system prompt and parsed from the reply"
            if mode == "text"
            else "tools are sent as native OpenAI tool definitions"
        )
    )
    # Issue 15: which family text tool calls are read in, and by which parsers.
    dialect = TextDialect(models.tool_family(base_url, settings.api_key, model)).describe()
    report["toolCalls"] = dialect
    lines.append(f"Tool-call family: {describe_line(dialect)}")
    return {"text": "\n".join(lines), "report": report, "ok": probe.reachable and not probe.error}
