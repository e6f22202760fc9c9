"""The baseline for cold start and memory: the smallest pygls server, started like claw-lsp."""

from __future__ import annotations

from pygls.lsp.server import LanguageServer


def main() -> None:
    LanguageServer("minimal-pygls", "0").start_io()


if __name__ == "__main__":
    main()
