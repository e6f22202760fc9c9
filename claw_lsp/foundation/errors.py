"""Errors every layer may raise toward a front door."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be served; the message is user-facing (no secrets, no internals)."""
