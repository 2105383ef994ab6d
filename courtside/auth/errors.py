"""Auth errors, shared by every HTTP surface (fanout's REST and WebSocket, ingest's WHIP).

Messages say what is wrong with a credential and never contain it: they are
returned to the caller and may be logged.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base of the auth errors."""


class Unauthorized(AuthError):
    """No token, or a token that is not valid (unknown, expired, badly signed): HTTP 401."""


class Forbidden(AuthError):
    """A valid token asked for a camera or a right outside its grant: HTTP 403."""


class AuthSetupError(AuthError):
    """The auth configuration cannot be used (an unreadable or unsuitable key file)."""
