"""fanout's use of the shared auth (:mod:`courtside.auth`): the names its routes and sessions import.

fanout accepts a token as ``Authorization: Bearer <token>`` or as the WebSocket
subprotocol ``bearer.<token>``; every route and the WebSocket need the ``read``
scope, ``/metrics`` the ``operator`` scope.
"""

from __future__ import annotations

from courtside_contracts.ws import SUBPROTOCOL

from courtside.auth import (
    ANONYMOUS,
    BEARER_SUBPROTOCOL_PREFIX,
    Authenticator,
    Principal,
    Scope,
    bearer_from_header,
    bearer_from_subprotocols,
    origin_allowed,
)

__all__ = [
    "ANONYMOUS", "BEARER_SUBPROTOCOL_PREFIX", "SUBPROTOCOL", "Authenticator", "Principal", "Scope",
    "bearer_from_header", "bearer_from_subprotocols", "origin_allowed",
]
