"""`claw-lsp doctor` and `claw.doctor`: what the backend can do, and whether the sandbox works."""

from __future__ import annotations

from typing import Any

from claw_lsp import __version__
from claw_lsp.config import Settings
from claw_lsp.llm.base import BackendError
from claw_lsp.llm.probe import ProbeCache, format_report
from claw_lsp.llm.provider import EMBEDDED_NOTE, ModelProvider
from claw_lsp.permissions.sandbox import probe_sandbox

_probes = ProbeCache()


async def run_doctor(settings: Settings, models: ModelProvider) -> dict[str, Any]:
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
    try:
        base_url, model = await models.endpoint(settings)
    except BackendError as exc:
        lines.append(f"Backend: {exc}")
        report["backend"] = {"configured": False, "error": str(exc)}
        return {"text": "\n".join(lines), "report": report, "ok": False}
    if not settings.base_url:
        lines.append(f"Backend: {EMBEDDED_NOTE}")
    probe = await _probes.get(base_url, settings.api_key, model)
    lines.append(format_report(probe))
    report["backend"] = probe.to_dict()
    return {"text": "\n".join(lines), "report": report, "ok": bool(probe.reachable)}
