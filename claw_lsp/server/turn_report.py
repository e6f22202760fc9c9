"""How a background turn's outcome reaches a plain client, which discards `claw/event`: a
`window/showMessage` for a short answer; for a long one a Markdown transcript of the turn,
written under the state dir and opened with `window/showDocument` when the client supports
it (its path is in the message otherwise). Errors and the changed files are always named."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from claw_lsp.foundation.secrets import neutralize_markdown, redact
from claw_lsp.permissions.paths import PathDenied
from claw_lsp.server.state import ClawServer

if TYPE_CHECKING:
    from claw_lsp.agent.turn import Prompt

log = logging.getLogger(__name__)
SHORT_CHARS = 300  # an answer up to this long (and SHORT_LINES lines) is shown in the message
SHORT_LINES = 4
show_tasks: set[asyncio.Task[Any]] = set()


def report_started(ls: ClawServer, prompt: str, turn: int) -> None:
    first = _one_line(prompt, 80)
    _message(ls, types.MessageType.Info, f"claw: working on turn {turn}: {first}")


def report_failure(ls: ClawServer, message: str) -> None:
    _message(ls, types.MessageType.Error, f"claw: {message}")


def report_result(
    ls: ClawServer, prompt: Prompt, result: dict[str, Any], events: list[tuple[str, dict[str, Any]]]
) -> None:
    text = str(result.get("text") or "").strip()
    stop = str(result.get("stopReason") or "")
    changed = _changed_files(ls, result)
    errors = [redact(str(p.get("message", ""))) for kind, p in events if kind == "error"]
    tail = f"\nChanged: {', '.join(changed)}" if changed else ""
    kind = types.MessageType.Error if stop == "error" else types.MessageType.Info
    if stop == "cancelled" and not text:
        text = "(cancelled)"
    short = len(text) <= SHORT_CHARS and text.count("\n") < SHORT_LINES and not errors
    if short:
        _message(ls, kind, f"claw: {text or '(no answer)'}{tail}")
        return
    path = write_transcript(ls, prompt, result, events, changed, errors)
    if path is None:  # could not write it: the start of the answer, at least
        _message(ls, kind, f"claw: {text[:SHORT_CHARS]}…{tail}")
        return
    summary = _one_line(text, 120) or (errors[0] if errors else "(no answer)")
    if _supports_show_document(ls):
        _message(ls, kind, f"claw: {summary}{tail}\n(full answer: {path.name})")
        task = asyncio.get_running_loop().create_task(_show(ls, path))
        show_tasks.add(task)
        task.add_done_callback(show_tasks.discard)
    else:
        _message(ls, kind, f"claw: {summary}{tail}\nFull answer: {path}")


def write_transcript(
    ls: ClawServer,
    prompt: Prompt,
    result: dict[str, Any],
    events: list[tuple[str, dict[str, Any]]],
    changed: list[str],
    errors: list[str],
) -> Path | None:
    session = re.sub(r"[^A-Za-z0-9_-]", "_", str(result.get("session") or "local"))[:80]
    turn = result.get("turn") or 0
    folder = ls.settings.state_dir / "transcripts"
    path = folder / f"{session}-turn{turn}.md"
    lines = [f"# claw: session {session}, turn {turn}", "", "## Prompt", ""]
    lines += [_quote(neutralize_markdown(redact(prompt.text))), "", "## Answer", ""]
    lines += [str(result.get("text") or "(no answer)"), ""]
    calls = [(p.get("name"), p.get("id")) for kind, p in events if kind == "toolCall"]
    summaries = {p.get("id"): p for kind, p in events if kind == "toolResult"}
    if calls:
        lines += ["## Tool calls", ""]
        for name, call_id in calls:
            outcome = summaries.get(call_id, {})
            mark = "ok" if outcome.get("ok") else "failed"
            summary = neutralize_markdown(redact(_one_line(str(outcome.get("summary", "")), 160)))
            lines.append(f"- `{_one_line(str(name), 60)}` ({mark}): {summary}")
        lines.append("")
    if changed:
        lines += ["## Changed files", "", *(f"- {name}" for name in changed), ""]
    if errors:
        lines += ["## Errors", "", *(f"- {neutralize_markdown(e)}" for e in errors), ""]
    lines += [f"Stop reason: {result.get('stopReason')}", ""]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError:
        log.warning("could not write the transcript %s", path, exc_info=True)
        return None
    return path


async def _show(ls: ClawServer, path: Path) -> None:
    try:
        await asyncio.wait_for(
            ls.window_show_document_async(
                types.ShowDocumentParams(uri=path.as_uri(), take_focus=False)
            ),
            ls.settings.client_request_timeout,
        )
    except Exception:
        log.info("window/showDocument failed or timed out")


def _supports_show_document(ls: ClawServer) -> bool:
    caps = ls.client_capabilities
    show = caps.window.show_document if caps and caps.window else None
    return bool(show and show.support)


def _changed_files(ls: ClawServer, result: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for entry in result.get("edits") or []:
        if not isinstance(entry, dict) or not entry.get("applied"):
            continue
        uri = str(entry.get("uri", ""))
        try:
            name = ls.claw_workspace.resolve_uri(uri).relative
        except PathDenied:
            name = uri
        if name not in out:
            out.append(name)
    return out


def _message(ls: ClawServer, kind: types.MessageType, message: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=redact(message)))


def _one_line(text: str, limit: int) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines()) or ">"
