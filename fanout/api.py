"""REST routes: camera/model lists, and the kit's ops routes (health, readiness, metrics).

Thin: logic lives elsewhere. ``/healthz`` and ``/readyz`` stay open for probes; ``/metrics``
needs operator scope when auth is on.
"""

from __future__ import annotations

import time
from typing import Any

from courtside_contracts.names import NAME_PATTERN
from fastapi import APIRouter, Depends, HTTPException, Path
from starlette.requests import HTTPConnection

from courtside.kit.lifecycle import Lifecycle
from courtside.kit.ops_routes import ops_router
from fanout.auth import Scope
from fanout.deps import AUTH_RESPONSES, LiveDep, PrincipalDep, get_runtime
from fanout.errors import Forbidden

router = APIRouter()


@router.get("/api/cameras", tags=["live"], summary="Cameras the caller may see, with live state",
            responses=AUTH_RESPONSES)
def list_cameras(live: LiveDep, who: PrincipalDep) -> dict[str, Any]:
    """Live state from ingest heartbeats, and the models serving each camera now."""
    return {"cameras": [c for c in live.cameras(time.monotonic()) if who.can_see(c["id"])]}


@router.get("/api/cameras/{camera}", tags=["live"], summary="One camera's live state",
            responses={**AUTH_RESPONSES, 404: {"description": "No such camera"}})
def get_camera(live: LiveDep, who: PrincipalDep,
               camera: str = Path(pattern=f"^{NAME_PATTERN}$")) -> dict[str, Any]:
    if not who.can_see(camera):
        raise HTTPException(403, f"token may not see camera {camera}")
    for entry in live.cameras(time.monotonic()):
        if entry["id"] == camera:
            return entry
    raise HTTPException(404, f"camera {camera} is unknown")


@router.get("/api/models", tags=["live"], summary="Model consumers and the cameras they serve",
            responses=AUTH_RESPONSES)
def list_models(live: LiveDep, who: PrincipalDep) -> dict[str, Any]:
    """A camera-restricted caller sees only models of its cameras, and only those cameras."""
    out = []
    for model in live.models(time.monotonic()):
        if who.cameras is not None:
            cams = who.visible(model["cameras"])
            if not cams:
                continue
            model = {**model, "cameras": cams}
        out.append(model)
    return {"models": out}


def _lifecycle(conn: HTTPConnection) -> Lifecycle:
    return get_runtime(conn).life


def require_operator(who: PrincipalDep) -> None:
    """403 unless the caller has operator scope (everyone has it when auth is off)."""
    try:
        who.require(Scope.OPERATOR)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None


router.include_router(ops_router(_lifecycle, metrics_dependencies=[Depends(require_operator)],
                                 metrics_responses=AUTH_RESPONSES))
