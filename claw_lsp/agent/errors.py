"""Errors the agent service raises for requests it cannot serve."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be served; the message is user-facing."""
