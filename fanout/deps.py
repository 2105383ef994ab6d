"""Typed FastAPI dependencies: the runtime's parts from lifespan state, and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from fanout.auth import Authenticator, Principal, bearer_from_header
from fanout.errors import Unauthorized
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
    """The caller of an HTTP route, from ``Authorization: Bearer``; 401 when required and wrong."""
    try:
        return auth.authenticate(bearer_from_header(conn.headers.get("authorization")))
    except Unauthorized as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]
