"""Running a `claw.ask` turn for the LSP front door: its event sink, its progress (the client's
token, or one the server creates), cancellation from the progress UI, and background turns.

A background turn (`"background": true`, which the code actions of plain clients carry) answers
the request at once with `{session, turn, started: true}` and runs on; its answer reaches the
user through turn_report.py. Plain clients block on `workspace/executeCommand` (eglot: 10 s,
with a frozen editor), so nothing they start may wait for the model."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from claw_lsp.foundation.errors import ServiceError
from claw_lsp.foundation.secrets import redact
from claw_lsp.server.events import LspEvents
from claw_lsp.server.state import ClawServer

if TYPE_CHECKING:
    from claw_lsp.agent.turn import Prompt

log = logging.getLogger(__name__)
# A background turn queued behind another one answers after this long with `queued: true`.
START_WAIT_S = 1.0
background_tasks: set[asyncio.Task[Any]] = set()  # strong references while they run


def supports_progress(ls: ClawServer) -> bool:
    caps = ls.client_capabilities
    return bool(caps and caps.window and caps.window.work_done_progress)


async def progress_token(ls: ClawServer, given: types.ProgressToken | None) -> Any:
    """The client's token, else for a plain client one created with window/workDoneProgress/
    create when it supports that (stock vim.lsp passes no token), else None. The claw plugins
    show the turn themselves: no extra progress for them."""
    if given is not None or not ls.plain_client or not supports_progress(ls):
        return given
    token = f"claw-turn-{uuid.uuid4().hex[:12]}"
    try:
        await asyncio.wait_for(
            ls.work_done_progress.create_async(token), ls.settings.client_request_timeout
        )
    except Exception:
        log.info("window/workDoneProgress/create failed or timed out: no progress")
        ls.work_done_progress.tokens.pop(token, None)
        return None
    return token


async def run_turn(
    ls: ClawServer,
    prompt: Prompt,
    token: types.ProgressToken | None,
    *,
    on_started: Callable[[str, int], None] = lambda session, turn: None,
    events: list[LspEvents] | None = None,
) -> dict[str, Any]:
    """The turn in the current task: a cancelled progress cancels this task. `events` gets
    the turn's event sink (its log is the transcript's tool calls)."""
    assert ls.service is not None
    task = asyncio.current_task()
    assert task is not None
    events = [] if events is None else events

    def on_start(session: str, turn: int) -> None:
        sink = LspEvents(ls, session, turn, token, on_proposal=ls.on_proposals_changed)
        ls.turn_events[f"{session}:{turn}"] = sink
        events.append(sink)
        sink.begin("claw")
        if token is not None:
            future = ls.work_done_progress.tokens.get(token)
            if future is not None:
                future.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)
        on_started(session, turn)

    try:
        return await ls.service.submit(prompt, on_start=on_start)
    finally:
        for sink in events:
            sink.end("done")
            ls.turn_events.pop(f"{sink.session}:{sink.turn}", None)
        if token is not None:
            ls.work_done_progress.tokens.pop(token, None)


async def start_background(
    ls: ClawServer, prompt: Prompt, token: types.ProgressToken | None
) -> dict[str, Any]:
    """Starts the turn as its own task and answers once it began (or was queued)."""
    from claw_lsp.server.turn_report import report_failure, report_result, report_started

    started: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()

    def on_started(session: str, turn: int) -> None:
        if not started.done():
            started.set_result((session, turn))
        if token is None:  # no progress UI: say that it runs, and how to stop it
            report_started(ls, prompt.text, turn)

    async def body() -> None:
        sinks: list[LspEvents] = []
        try:
            result = await run_turn(ls, prompt, token, on_started=on_started, events=sinks)
        except asyncio.CancelledError:
            report_failure(ls, "the turn was cancelled before it started")
            return
        except ServiceError as exc:
            report_failure(ls, redact(str(exc)))
            return
        except Exception as exc:
            log.exception("background turn failed")
            report_failure(ls, f"the turn failed: {type(exc).__name__}")
            return
        finally:
            if not started.done():
                started.cancel()
        report_result(ls, prompt, result, sinks[-1].log if sinks else [])

    task = asyncio.create_task(body())
    background_tasks.add(task)
    task.add_done_callback(background_tasks.discard)
    done, _ = await asyncio.wait({started}, timeout=START_WAIT_S)
    if started in done and not started.cancelled():
        session, turn = started.result()
        return {"session": session, "turn": turn, "started": True}
    if task.done():  # a slash command answered locally, or the turn could not start
        return {"session": None, "turn": None, "started": False}
    return {"session": prompt.session, "turn": None, "started": False, "queued": True}
