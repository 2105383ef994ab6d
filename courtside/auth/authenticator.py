"""Bearer token -> :class:`Principal`: static tokens and signed JWTs, one way for every service.

Static tokens are compared as SHA-256 digests with :func:`hmac.compare_digest`, against
every configured token without an early exit, so timing reveals neither which token
nor how much of one matched. A token that matches none and has the JWT shape is
verified as a JWT when ``auth.jwt`` is configured. Tokens never appear in reprs,
errors or logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from courtside.auth import redact
from courtside.auth.errors import Unauthorized
from courtside.auth.jwt_tokens import JwtVerifier, looks_like_jwt
from courtside.auth.principal import ANONYMOUS, Principal, Scope, parse_scopes
from courtside.config import AuthConfig


@dataclass(frozen=True, slots=True)
class StaticGrant:
    """A static token outside the ``auth`` section (e.g. ``ingest.whip_token``) and what it grants."""

    token: SecretStr
    label: str
    scopes: frozenset[Scope]
    cameras: frozenset[str] | None = None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Authenticator:
    """Maps a presented token to a :class:`Principal`.

    ``enabled`` is ``auth.enabled`` or any ``extra`` grant; when false everyone is
    :data:`ANONYMOUS` (the embedded loopback default). The ``auth`` section's tokens count
    only when ``auth.enabled``. Building one also masks tokens in the request logs of
    uvicorn and websockets (:func:`courtside.auth.redact.install`), so that every server
    that accepts tokens scrubs them before it serves a request.
    """

    def __init__(self, config: AuthConfig, extra: Sequence[StaticGrant] = ()) -> None:
        redact.install()
        self.enabled = config.enabled or bool(extra)
        grants = [StaticGrant(t.token, f"token#{i + 1}", parse_scopes(t.scopes),
                              None if t.cameras is None else frozenset(t.cameras))
                  for i, t in enumerate(config.tokens)] if config.enabled else []
        grants.extend(extra)
        self._static = [(_digest(g.token.get_secret_value()), Principal(g.label, g.scopes, g.cameras, g.label))
                        for g in grants]
        self._jwt = JwtVerifier(config.jwt) if config.enabled and config.jwt is not None else None

    def authenticate(self, token: str | None) -> Principal:
        """The token's principal; :class:`Unauthorized` (with a reason, never the token) otherwise."""
        if not self.enabled:
            return ANONYMOUS
        if not token:
            raise Unauthorized("a bearer token is required (Authorization header or "
                               "subprotocol 'bearer.<token>')")
        presented = _digest(token)
        found: Principal | None = None
        for digest, principal in self._static:  # no early exit: constant time in the match position
            if hmac.compare_digest(presented, digest) and found is None:
                found = principal
        if found is not None:
            return found
        if self._jwt is not None and looks_like_jwt(token):
            return self._jwt.verify(token)
        raise Unauthorized("the bearer token is not valid")

    def __repr__(self) -> str:
        return f"Authenticator(enabled={self.enabled}, static={len(self._static)}, jwt={self._jwt!r})"
