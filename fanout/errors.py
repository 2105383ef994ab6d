"""fanout's exceptions; each says what failed and what to do about it."""

from __future__ import annotations

#: Auth errors are the shared ones (401 and 403), raised by courtside.auth and by fanout alike.
from courtside.auth.errors import Forbidden, Unauthorized

__all__ = ["FanoutError", "Forbidden", "StartupError", "Unauthorized"]


class FanoutError(Exception):
    """Base of every fanout error."""


class StartupError(FanoutError):
    """fanout could not start (NATS unreachable, port taken, ...)."""
