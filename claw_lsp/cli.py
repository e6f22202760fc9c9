"""`claw-lsp`: the stdio language server, plus `ask`, `sessions` and `doctor` for the terminal
and `acp`, the Agent Client Protocol agent."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from claw_lsp import __version__
from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.secrets import redact, register_secret


class _RedactingFormatter(logging.Formatter):
    """Log lines carry model and backend text: secrets masked, terminal escapes shown."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_for_display(redact(super().format(record)), multiline=True)


def setup_logging(debug: bool, log_file: str | None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # pygls logs whole message bodies at DEBUG: keep them out even in debug mode.
    logging.getLogger("pygls").setLevel(logging.INFO if debug else logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claw-lsp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"claw-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve on stdio (the default)")
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="debugging only: loopback, one client, which must send the launch token as "
        "initializationOptions.clawToken (port 0 picks a free port)",
    )
    parser.add_argument(
        "--tcp-token",
        metavar="TOKEN",
        help="the launch token for --tcp (default: $CLAW_LSP_TCP_TOKEN, else a random one, "
        "printed to stderr)",
    )
    parser.add_argument("--debug", action="store_true", help="log more; show internal errors")
    parser.add_argument("--log-file", help="log here instead of stderr")
    sub = parser.add_subparsers(dest="command")
    ask = sub.add_parser("ask", help="run the agent once, headless")
    ask.add_argument("prompt")
    ask.add_argument("--folder", default=".")
    ask.add_argument("--tier", choices=["read-only", "write", "shell", "unsafe"])
    ask.add_argument("--session", help="a session id, or 'new'")
    ask.add_argument("--model")
    ask.add_argument("--base-url")
    ask.add_argument("--edit-mode", choices=["apply", "propose"])
    ask.add_argument(
        "--yes",
        action="store_true",
        help="answer approval prompts with 'allow once' (never raises the tier)",
    )
    ask.add_argument("--json", action="store_true", help="print the claw.ask result as JSON")
    ask.add_argument(  # issue 18
        "--plan", action="store_true", help="plan mode: read-only tools, then a plan to accept"
    )
    ask.add_argument(
        "--accept-plan",
        action="store_true",
        help="carry out the session's last plan; a non-empty PROMPT is the edited plan",
    )
    sessions = sub.add_parser("sessions", help="list a folder's sessions")
    sessions.add_argument("--folder", default=".")
    sessions.add_argument("--json", action="store_true")
    doctor = sub.add_parser("doctor", help="probe the backend and the sandbox")
    doctor.add_argument("--json", action="store_true")
    # Issue 21: the Agent Client Protocol front door (Zed, JetBrains, CodeCompanion, avante).
    sub.add_parser("acp", help="serve the Agent Client Protocol on stdio (docs/acp.md)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.debug, args.log_file)
    if args.command in ("ask", "sessions", "doctor"):
        from claw_lsp.headless import run_command

        return run_command(args)
    if args.command == "acp":
        from claw_lsp.acp.main import run as run_acp

        return run_acp(args)
    return serve(args)


def serve(args: Any) -> int:
    from claw_lsp.config import ConfigError, options_from_env, read_user_config
    from claw_lsp.server.app import create_server
    from claw_lsp.server.lifecycle import kill_children
    from claw_lsp.server.transport import start_stdio

    try:
        user_file = read_user_config()
    except ConfigError as exc:
        logging.getLogger(__name__).error("%s", exc)
        user_file = {}
    server = create_server(user_file=user_file, env=options_from_env(), debug=args.debug)
    if args.tcp:
        return serve_tcp(args, server)
    start_stdio(server)
    # stdin closed (the editor went away, with or without shutdown): leave nothing running.
    kill_children()
    sys.stdout.flush()
    os._exit(0 if server.protocol._shutdown else 1)


def serve_tcp(args: Any, server: Any) -> int:
    import secrets

    from claw_lsp.server.lifecycle import kill_children
    from claw_lsp.server.tcp import LOOPBACK_HOSTS, MIN_TOKEN_CHARS, TOKEN_ENV, start_tcp

    host, _, port_text = args.tcp.rpartition(":")
    host = host.strip("[]")
    if host not in LOOPBACK_HOSTS or not port_text.isdigit():
        print("claw-lsp: --tcp takes 127.0.0.1:PORT (loopback only)", file=sys.stderr)
        return 2
    token = args.tcp_token or os.environ.get(TOKEN_ENV) or ""
    generated = not token
    if generated:
        token = secrets.token_urlsafe(24)
    elif len(token) < MIN_TOKEN_CHARS:
        print(f"claw-lsp: the TCP token needs {MIN_TOKEN_CHARS}+ characters", file=sys.stderr)
        return 2
    register_secret(token)  # never in a log line or a frame

    def listening(bound_host: str, bound_port: int) -> None:
        note = f"; launch token: {token}" if generated else ""
        # Printed, not logged: the log formatter would (rightly) mask the token.
        print(
            f"claw-lsp: listening on {bound_host}:{bound_port} for one client{note}",
            file=sys.stderr,
            flush=True,
        )

    start_tcp(server, host, int(port_text), token, listening)
    kill_children()
    sys.stdout.flush()
    os._exit(0 if server.protocol._shutdown else 1)
