"""Authentication and authorization shared by fanout (REST, WebSocket) and ingest (WHIP).

Pure parts (:mod:`~courtside.auth.principal`, :mod:`~courtside.auth.bearer`,
:mod:`~courtside.auth.cors`) hold no I/O; :mod:`~courtside.auth.jwt_tokens` is the
PyJWT boundary; :class:`Authenticator` ties static tokens and JWTs together.
"""

from courtside.auth.authenticator import Authenticator, StaticGrant
from courtside.auth.bearer import (
    BEARER_SUBPROTOCOL_PREFIX,
    bearer_from_header,
    bearer_from_subprotocols,
    origin_allowed,
)
from courtside.auth.errors import AuthError, AuthSetupError, Forbidden, Unauthorized
from courtside.auth.principal import ADMIN, ANONYMOUS, Principal, Scope, parse_scopes

__all__ = [
    "ADMIN", "ANONYMOUS", "BEARER_SUBPROTOCOL_PREFIX", "AuthError", "AuthSetupError", "Authenticator",
    "Forbidden", "Principal", "Scope", "StaticGrant", "Unauthorized", "bearer_from_header",
    "bearer_from_subprotocols", "origin_allowed", "parse_scopes",
]
