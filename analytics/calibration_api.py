"""The calibration REST API of the analytics service: clicked points in, solved and stored, the court back as pixels.

``GET /api/calibration/points``: the named court points an operator can click (world metres).
``POST /api/calibration/{camera}`` with ``{"width": W, "height": H, "points": {name: [u, v]}}``: solved
first (422 with the reason when it cannot be), then stored in the ``calibration`` bucket as a
new revision (the service's watch picks it up), and answered with :func:`describe`.
``GET /api/calibration/{camera}``: the stored one, described the same way (404 when none).

:func:`describe` is pure: the reprojection error of the clicks in pixels, their floor error in
centimetres (each clicked floor point mapped back to the floor against its model position) and
the court lines (floor lines, net, and with a pose the walls' edges) as pixel polylines for an
overlay over the video. The store arrives on ``app.state.calibration_store``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import numpy as np
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName
from fastapi import APIRouter, HTTPException, Request

from analytics.calibrated import Calibrated, CalibrationError, solve
from analytics.calibration_store import CalibrationStore, CalibrationStoreError
from courtside.court import model as court
from courtside.court.calibration import COURT_POINTS, FloorCalibration
from courtside.natsio import now_ns

#: Samples per line of the overlay polylines (enough for the lens distortion to bend them).
SAMPLES = 16


def _polylines(cal: Calibrated) -> list[list[list[float]]]:
    """The court's lines as pixel polylines of the calibration's image (points off the image kept)."""
    segments: list[tuple[tuple[float, float, float], tuple[float, float, float]]] = [
        ((s.a[0], s.a[1], 0.0), (s.b[0], s.b[1], 0.0)) for s in court.lines()]
    if cal.camera is not None:
        segments.append(((-court.HALF_WIDTH_M, court.NET_Y_M, court.NET_POST_M),
                         (court.HALF_WIDTH_M, court.NET_Y_M, court.NET_POST_M)))
        for panel in court.walls():
            c = panel.corners()
            segments += [(c[i], c[(i + 1) % 4]) for i in range(4)]
    out: list[list[list[float]]] = []
    t = np.linspace(0.0, 1.0, SAMPLES)[:, None]
    for a, b in segments:
        pts = np.asarray(a) + (np.asarray(b) - np.asarray(a)) * t
        if cal.camera is not None:
            uv, depth = cal.camera.project(pts)
            uv = uv[depth > 0.05]
        else:
            assert isinstance(cal.floor, FloorCalibration)
            uv = cal.floor.floor_to_image(pts[:, :2])
        uv = uv[np.isfinite(uv).all(axis=1)]
        if len(uv) >= 2:
            out.append([[round(float(u), 1), round(float(v), 1)] for u, v in uv])
    return out


def describe(record: CalibrationRecord, cal: Calibrated) -> dict[str, Any]:
    """What the page shows: kind, revision, errors (px, cm at the clicked floor points) and the overlay lines."""
    floor_names = [n for n in record.points if n in COURT_POINTS and COURT_POINTS[n][2] == 0.0]
    error_cm = None
    if floor_names:
        mapped = cal.floor.image_to_floor([record.points[n] for n in floor_names])
        truth = np.array([COURT_POINTS[n][:2] for n in floor_names])
        error_cm = round(float(np.nanmean(np.linalg.norm(mapped - truth, axis=1))) * 100.0, 2)
    return {"camera": record.camera, "revision": cal.revision, "kind": cal.kind, "width": record.width,
            "height": record.height, "points": {n: list(uv) for n, uv in record.points.items()},
            "reprojection_px": round(cal.reprojection_px, 3), "floor_error_cm": error_cm,
            "lines": _polylines(cal)}


def _store(request: Request) -> CalibrationStore:
    store = getattr(request.app.state, "calibration_store", None)
    if not isinstance(store, CalibrationStore):
        raise HTTPException(503, "the calibration store is not open yet")
    return store


router = APIRouter()


@router.get("/api/calibration/points")
async def points() -> dict[str, Any]:
    return {"points": {n: list(p) for n, p in COURT_POINTS.items()}}


@router.post("/api/calibration/{camera}")
async def put(camera: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ContractError("the body must be an object with width, height and points")
        record = CalibrationRecord.from_json(json.dumps({**data, "v": 1, "camera": camera, "set_ns": now_ns()}))
        cal = await asyncio.to_thread(solve, record, 0)  # a focal-length search: tens of ms
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"not JSON: {exc}") from None
    except (ContractError, InvalidName, CalibrationError) as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        revision = await _store(request).put(record)
    except CalibrationStoreError as exc:
        raise HTTPException(503, str(exc)) from None
    return describe(record, dataclasses.replace(cal, revision=revision))


@router.get("/api/calibration/{camera}")
async def get(camera: str, request: Request) -> dict[str, Any]:
    try:
        found = await _store(request).get(camera)
    except (InvalidName, ContractError) as exc:
        raise HTTPException(422, str(exc)) from None
    except CalibrationStoreError as exc:
        raise HTTPException(503, str(exc)) from None
    if found is None:
        raise HTTPException(404, f"{camera} has no calibration")
    record, revision = found
    try:
        return describe(record, await asyncio.to_thread(solve, record, revision))
    except CalibrationError as exc:
        raise HTTPException(422, f"the stored calibration cannot be solved: {exc}") from None
