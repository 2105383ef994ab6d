"""REST routes: camera/model lists, health, readiness, metrics. Thin: logic lives elsewhere."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import JSONResponse, Response

from contracts.names import NAME_PATTERN
from fanout.auth import Scope
from fanout.deps import LiveDep, PrincipalDep, RuntimeDep
from fanout.errors import Forbidden
from fanout.metrics import CONTENT_TYPE

router = APIRouter()


@router.get("/api/cameras", tags=["live"], summary="Cameras the caller may see, with live state")
def list_cameras(live: LiveDep, who: PrincipalDep) -> dict[str, Any]:
    """Live state from ingest heartbeats, and the models serving each camera now."""
    return {"cameras": [c for c in live.cameras(time.monotonic()) if who.can_see(c["id"])]}


@router.get("/api/cameras/{camera}", tags=["live"], summary="One camera's live state")
def get_camera(live: LiveDep, who: PrincipalDep,
               camera: str = Path(pattern=f"^{NAME_PATTERN}$")) -> dict[str, Any]:
    if not who.can_see(camera):
        raise HTTPException(403, f"token may not see camera {camera}")
    for entry in live.cameras(time.monotonic()):
        if entry["id"] == camera:
            return entry
    raise HTTPException(404, f"camera {camera} is unknown")


@router.get("/api/models", tags=["live"], summary="Model consumers and the cameras they serve")
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


@router.get("/healthz", tags=["ops"], summary="Alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"], summary="Ready: NATS connected and subscriptions in place")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    ready = runtime.state.value == "ready" and runtime.nats_connected
    body = {"ready": ready, "state": runtime.state.value,
            "dependencies": {"nats": "connected" if runtime.nats_connected else "disconnected"}}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", tags=["ops"], summary="Prometheus metrics (operator scope when auth is on)")
def metrics(runtime: RuntimeDep, who: PrincipalDep) -> Response:
    try:
        who.require(Scope.OPERATOR)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)
