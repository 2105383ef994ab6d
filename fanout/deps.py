"""Typed FastAPI dependencies: the runtime's parts from lifespan state, and the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from fanout.auth import Authenticator, Principal, Scope, bearer_from_header
from fanout.errors import Forbidden, Unauthorized
from fanout.hub import Hub
from fanout.live_state import LiveState
from fanout.runtime import FanoutRuntime


def get_runtime(conn: HTTPConnection) -> FanoutRuntime:
    runtime: FanoutRuntime = conn.state.runtime
    return runtime


def get_hub(conn: HTTPConnection) -> Hub:
    return get_runtime(conn).hub


def get_live(conn: HTTPConnection) -> LiveState:
    return get_runtime(conn).live


def get_auth(conn: HTTPConnection) -> Authenticator:
    return get_runtime(conn).auth


RuntimeDep = Annotated[FanoutRuntime, Depends(get_runtime)]
HubDep = Annotated[Hub, Depends(get_hub)]
LiveDep = Annotated[LiveState, Depends(get_live)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]


def get_principal(conn: HTTPConnection, auth: AuthDep) -> Principal:
    """The caller of an HTTP route, from ``Authorization: Bearer``, holding the ``read`` scope;
    401 when the token is required and missing or not valid, 403 without ``read``."""
    try:
        principal = auth.authenticate(bearer_from_header(conn.headers.get("authorization")))
        principal.require(Scope.READ)
    except Unauthorized as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

_DETAIL = {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}},
                                            "required": ["detail"]}}}
#: The OpenAPI ``responses`` of a route guarded by :data:`PrincipalDep` (the refusals it can answer).
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No bearer token, or one that is not valid (the reason in detail)", "content": _DETAIL},
    403: {"description": "The token lacks the scope or the camera (the reason in detail)", "content": _DETAIL},
}
