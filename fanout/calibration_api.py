"""The live page's calibration routes: fanout passes them on to the analytics service's calibration API.

Why a pass-through: the solver (OpenCV, not in fanout's environment) and the writer of the
``calibration`` bucket live in analytics (:mod:`analytics.calibration_api`); the page reaches them on
its own origin, through fanout, which adds what fanout owns:

- the caller's token: reading (``GET /api/calibration/points``, ``GET /api/calibration/{camera}``)
  needs the ``read`` scope and the camera in the token's grants; solving
  (``POST /api/calibration/{camera}/solve``) and saving (``POST /api/calibration/{camera}``) need the
  ``write`` scope and the camera (401/403 otherwise);
- the camera must be one fanout knows (configured, or seen in heartbeats or traffic): 404 otherwise;
- a body over :data:`MAX_BODY_BYTES` is a 413 before anything is sent on.

The analytics service's answer, a 200 or a 4xx with its ``detail`` (400 not JSON, 422 cannot
calibrate: unknown point names, too few points, points on one line, NaN...), is passed on as it is.
An analytics service that cannot be reached is a 503, one that does not answer within
:data:`UPSTREAM_TIMEOUT_S` a 504, one that answers 5xx or not JSON a 502, each saying so; without
``fanout.analytics_url`` every route is a 503 that names the setting. Blocking ``urllib`` runs in a
worker thread (``asyncio.to_thread``): a calibration is a handful of requests by one operator, and
at most :data:`MAX_IN_FLIGHT` are passed on at once (a 429 beyond), so a stuck analytics service
cannot take every worker thread of the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Annotated, Any

from courtside_contracts.names import NAME_PATTERN
from fastapi import APIRouter, HTTPException, Path, Request

from fanout.auth import Principal, Scope
from fanout.deps import AUTH_RESPONSES, PrincipalDep, RuntimeDep
from fanout.errors import Forbidden
from fanout.runtime import FanoutRuntime

router = APIRouter(tags=["calibration"])
log = logging.getLogger(__name__)

CameraPath = Annotated[str, Path(pattern=f"^{NAME_PATTERN}$", description="camera id")]
#: Largest calibration body (bytes) passed on: 64 named points are a few KiB.
MAX_BODY_BYTES = 16 * 1024
#: Seconds the analytics service has to answer (a solve is a focal-length search: tens of ms).
UPSTREAM_TIMEOUT_S = 10.0
#: Calibration requests passed on at once (each holds a worker thread until analytics answers); over it a 429.
MAX_IN_FLIGHT = 4


class _Gate:
    """At most ``limit`` requests at once; one over it is refused at once (never queued), and counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self.refused = 0

    def enter(self) -> None:
        if self.busy >= self.limit:
            self.refused += 1
            raise HTTPException(429, f"{self.limit} calibration requests are already in progress; try again",
                                headers={"Retry-After": "1"})
        self.busy += 1

    def leave(self) -> None:
        self.busy -= 1


_gate = _Gate(MAX_IN_FLIGHT)
_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: {"description": "The camera is unknown, or it has no calibration yet"},
    413: {"description": f"The body is larger than {MAX_BODY_BYTES} bytes"},
    422: {"description": "The points cannot calibrate the camera (the reason in detail)"},
    429: {"description": f"{MAX_IN_FLIGHT} calibration requests are in progress already"},
    502: {"description": "The analytics service failed (its answer in detail)"},
    503: {"description": "No analytics service is configured or it cannot be reached"},
    504: {"description": "The analytics service did not answer in time"},
}


#: The request body of the solve and save routes, for the OpenAPI document (the body is read raw and
#: checked by analytics, so that its refusals keep their reasons).
_POINTS_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["width", "height", "points"],
    "properties": {
        "width": {"type": "integer", "minimum": 1, "description": "image width, pixels"},
        "height": {"type": "integer", "minimum": 1, "description": "image height, pixels"},
        "points": {"type": "object", "description": "court point name -> [u, v], pixels of that image, "
                   "(0, 0) = the centre of the top-left pixel",
                   "additionalProperties": {"type": "array", "items": {"type": "number"},
                                            "minItems": 2, "maxItems": 2}}}}}}}}


def _base_url(runtime: FanoutRuntime) -> str:
    url = runtime.config.fanout.analytics_url
    if url is None:
        raise HTTPException(503, "calibration is off: set fanout.analytics_url (COURTSIDE_FANOUT__ANALYTICS_URL) "
                                 "to the analytics service's http://host:port")
    return url


def _allowed(runtime: FanoutRuntime, who: Principal, camera: str, scope: Scope) -> None:
    """403 unless the token holds ``scope`` for ``camera``; 404 when fanout does not know the camera."""
    try:
        who.require(scope, camera)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    if camera not in runtime.live.camera_ids():
        raise HTTPException(404, f"camera {camera} is unknown")


def _exchange(url: str, body: bytes | None) -> tuple[int, bytes]:
    """One blocking request (POST when ``body`` is given): the status and the body of the answer."""
    request = urllib.request.Request(url, data=body, method="GET" if body is None else "POST",  # noqa: S310 - http(s) only: fanout.analytics_url is checked at load
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=UPSTREAM_TIMEOUT_S) as answer:  # noqa: S310 - as above
            return int(answer.status), bytes(answer.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), bytes(exc.read(64 * 1024))


async def _forward(runtime: FanoutRuntime, path: str, body: bytes | None = None) -> dict[str, Any]:
    """The analytics answer to ``path``, or the HTTPException that tells the page what failed."""
    base = _base_url(runtime)
    _gate.enter()
    try:
        status, raw = await asyncio.to_thread(_exchange, f"{base}{path}", body)
    except TimeoutError:
        raise HTTPException(504, f"the analytics service at {base} did not answer within "
                                 f"{UPSTREAM_TIMEOUT_S:.0f} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise HTTPException(504, f"the analytics service at {base} did not answer within "
                                     f"{UPSTREAM_TIMEOUT_S:.0f} s") from None
        log.warning("calibration: analytics at %s unreachable: %s", base, reason)
        raise HTTPException(503, f"the analytics service at {base} cannot be reached: {reason}") from None
    finally:
        _gate.leave()
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        raise HTTPException(502, f"the analytics service answered {status} without a JSON object")
    if status == 200:
        return answer
    detail = str(answer.get("detail", ""))[:500] or f"HTTP {status}"
    if 400 <= status < 500:
        raise HTTPException(status, detail)
    log.warning("calibration: analytics answered %d to %s: %s", status, path, detail)
    raise HTTPException(502, f"the analytics service failed ({status}): {detail}")


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the calibration body is larger than {MAX_BODY_BYTES} bytes")
    return body


@router.get("/api/calibration/points", summary="The named court points an operator can click (world metres)",
            responses=_ERRORS)
async def points(runtime: RuntimeDep, who: PrincipalDep) -> dict[str, Any]:
    return await _forward(runtime, "/api/calibration/points")


@router.get("/api/calibration/{camera}", summary="A camera's stored calibration, described", responses=_ERRORS)
async def stored(runtime: RuntimeDep, who: PrincipalDep, camera: CameraPath) -> dict[str, Any]:
    """The clicked points, errors (px, cm) and the court's lines in the image's pixels; 404 when none."""
    _allowed(runtime, who, camera, Scope.READ)
    return await _forward(runtime, f"/api/calibration/{camera}")


@router.post("/api/calibration/{camera}/solve", summary="Solve clicked points without storing them",
             responses=_ERRORS, openapi_extra=_POINTS_BODY)
async def solve(runtime: RuntimeDep, who: PrincipalDep, camera: CameraPath, request: Request) -> dict[str, Any]:
    """Body ``{"width": W, "height": H, "points": {name: [u, v]}}`` (pixels of a W x H image); the answer
    is the description of the solved calibration, ``revision`` null."""
    _allowed(runtime, who, camera, Scope.WRITE)
    return await _forward(runtime, f"/api/calibration/{camera}/solve", await _body(request))


@router.post("/api/calibration/{camera}", summary="Solve clicked points and store them as a new revision",
             responses=_ERRORS, openapi_extra=_POINTS_BODY)
async def save(runtime: RuntimeDep, who: PrincipalDep, camera: CameraPath, request: Request) -> dict[str, Any]:
    """The same body as ``/solve``; stored in the ``calibration`` bucket (the new ``revision``) when it solves."""
    _allowed(runtime, who, camera, Scope.WRITE)
    answer = await _forward(runtime, f"/api/calibration/{camera}", await _body(request))
    log.info("%s: calibration saved by %s as revision %s", camera, who.label, answer.get("revision"))
    return answer
