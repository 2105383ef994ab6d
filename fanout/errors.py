"""fanout's exceptions; each says what failed and what to do about it."""

from __future__ import annotations


class FanoutError(Exception):
    """Base of every fanout error."""


class Unauthorized(FanoutError):
    """No token, or a token that matches none configured (HTTP 401)."""


class Forbidden(FanoutError):
    """A valid token asked for a camera or an operation outside its grant (HTTP 403)."""


class StartupError(FanoutError):
    """fanout could not start (NATS unreachable, port taken, ...)."""
