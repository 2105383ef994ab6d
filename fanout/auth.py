"""Bearer-token authentication and per-camera grants (pure: no I/O, no framework).

A token arrives either as ``Authorization: Bearer <token>`` or as a WebSocket
subprotocol ``bearer.<token>`` (browsers cannot set headers on a WebSocket).
Tokens are compared as SHA-256 digests with :func:`hmac.compare_digest`, against
every configured token without an early exit, so timing reveals neither which
token nor how much of one matched. Tokens never appear in reprs or logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import urlsplit

from courtside.config import AuthConfig
from fanout.errors import Forbidden, Unauthorized

#: The subprotocol fanout speaks and echoes back; ``bearer.<token>`` is never echoed.
SUBPROTOCOL = "courtside.v1"
BEARER_SUBPROTOCOL_PREFIX = "bearer."


class Scope(IntEnum):
    """Ordered: a higher scope includes every right of the lower ones."""

    VIEWER = 1    # live streams and camera/model lists of its cameras
    OPERATOR = 2  # + /metrics
    ADMIN = 3     # everything


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a scope and the cameras it may see (None = every camera)."""

    label: str
    scope: Scope
    cameras: frozenset[str] | None

    def can_see(self, camera: str) -> bool:
        return self.cameras is None or camera in self.cameras

    def visible(self, cameras: Iterable[str]) -> list[str]:
        """The subset of ``cameras`` this principal may see, order kept."""
        return [c for c in cameras if self.can_see(c)]

    def require(self, scope: Scope) -> None:
        if self.scope < scope:
            raise Forbidden(f"this needs the {scope.name.lower()} scope; "
                            f"the token has {self.scope.name.lower()}")


#: The caller when auth is disabled (the embedded loopback default).
ANONYMOUS = Principal("anonymous", Scope.ADMIN, None)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Authenticator:
    """Maps a presented token to a :class:`Principal` (``auth.enabled`` false: everyone is admin)."""

    def __init__(self, config: AuthConfig) -> None:
        self.enabled = config.enabled
        self._grants = [
            (_digest(t.token.get_secret_value()),
             Principal(f"token#{i + 1}", Scope[t.scope.upper()],
                       None if t.cameras is None else frozenset(t.cameras)))
            for i, t in enumerate(config.tokens)
        ]

    def authenticate(self, token: str | None) -> Principal:
        """Return the token's principal; raise :class:`Unauthorized` when none matches."""
        if not self.enabled:
            return ANONYMOUS
        if not token:
            raise Unauthorized("a bearer token is required (Authorization header or "
                               f"subprotocol '{BEARER_SUBPROTOCOL_PREFIX}<token>')")
        presented = _digest(token)
        found: Principal | None = None
        for digest, principal in self._grants:  # no early exit: constant time in the match position
            if hmac.compare_digest(presented, digest) and found is None:
                found = principal
        if found is None:
            raise Unauthorized("the bearer token is not valid")
        return found

    def __repr__(self) -> str:
        return f"Authenticator(enabled={self.enabled}, tokens={len(self._grants)})"


def bearer_from_header(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def bearer_from_subprotocols(subprotocols: Sequence[str]) -> str | None:
    """The token carried as subprotocol ``bearer.<token>``, else None."""
    for proto in subprotocols:
        if proto.startswith(BEARER_SUBPROTOCOL_PREFIX) and len(proto) > len(BEARER_SUBPROTOCOL_PREFIX):
            return proto[len(BEARER_SUBPROTOCOL_PREFIX):]
    return None


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """WebSocket origin check (browsers do not apply CORS to WebSockets).

    No Origin (non-browser clients) and same-origin pages pass; other origins pass
    only when listed in ``fanout.cors_origins`` (``"*"`` allows any).
    """
    if not origin:
        return True
    if "*" in allowed or origin in allowed:
        return True
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()
