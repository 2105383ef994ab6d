"""Where a bearer token travels, and the browser-origin check. Pure functions.

A token arrives as ``Authorization: Bearer <token>`` or, on a WebSocket (browsers
cannot set its headers), as the subprotocol ``bearer.<token>``, which is never echoed.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

# The WebSocket carriage is part of the wire contract (clients build it too).
from courtside_contracts.ws import BEARER_SUBPROTOCOL_PREFIX, bearer_from_subprotocols

__all__ = ["BEARER_SUBPROTOCOL_PREFIX", "bearer_from_header", "bearer_from_subprotocols", "origin_allowed"]


def bearer_from_header(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a browser page on ``origin`` may use this server.

    No Origin (non-browser clients) and same-origin pages pass; other origins pass
    only when listed in ``allowed`` (``"*"`` allows any). Used for WebSockets, to which
    browsers do not apply CORS, and for CORS answers.
    """
    if not origin:
        return True
    if "*" in allowed or origin in allowed:
        return True
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return host is not None and netloc == host.lower()
