"""A language server that exits on its first didOpen (exit code 3) and works after a restart.

Usage: python crashing_server.py MARKER_FILE. The marker file records that it crashed once, so
the restarted process answers: `textDocument/definition` points at line 1 of the document.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

MARKER = Path(sys.argv[1])
server = LanguageServer("crashing-fixture", "1.0")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    if not MARKER.exists():
        MARKER.write_text("crashed once\n")
        sys.stderr.write("fixture: crashing on purpose at didOpen\n")
        sys.stderr.flush()
        os._exit(3)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> types.Location:
    start = types.Position(line=0, character=0)
    return types.Location(uri=params.text_document.uri, range=types.Range(start=start, end=start))


if __name__ == "__main__":
    server.start_io()
