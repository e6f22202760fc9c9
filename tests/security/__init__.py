"""SECURITY.md rows PC, SV, PT, PI, SE, SF and RE as tests (unit and end to end)."""
