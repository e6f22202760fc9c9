"""The model-facing language-server error, apart from the client that raises it: the hub and the
diagnostics delta catch it without loading lsprotocol/pygls (issue 22: the CLI's first request
does not wait for them when no language server is configured)."""

from __future__ import annotations


class LanguageServerError(Exception):
    """Model-facing: why a claw-run language server could not answer."""
