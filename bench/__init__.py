"""Benchmarks for claw-lsp (issue 9): `.venv/bin/python -m bench.run`. Not part of the tests."""
