"""The calibration REST API of the analytics service: clicked points in, solved and stored, the court back as pixels.

``GET /api/calibration/points``: the named court points an operator can click (world metres).
``POST /api/calibration/{camera}`` with ``{"width": W, "height": H, "points": {name: [u, v]}}``: solved
first (422 with the reason when it cannot be), then stored in the ``calibration`` bucket as a
new revision (the service's watch picks it up), and answered with :func:`describe`.
``POST /api/calibration/{camera}/solve``: the same body, solved and described but not stored
(``revision`` null): the live page's "Solve" before "Save".
``GET /api/calibration/{camera}``: the stored one, described the same way (404 when none).

A body over :data:`MAX_BODY_BYTES` is a 413, one that is not JSON a 400, anything else that
cannot calibrate (unknown point names, too few points, points on one line, pixels far outside
the image, an image over :data:`MAX_SIDE_PX`) a 422 that says why.

:func:`describe` is pure: the reprojection error of the clicks in pixels, their floor error in
centimetres (each clicked floor point mapped back to the floor against its model position), mean
and max and per point, and the court lines (floor lines, net, and with a pose the walls' edges)
as pixel polylines for an overlay over the video. The store arrives on ``app.state.calibration_store``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from typing import Any

import numpy as np
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError
from courtside_contracts.names import InvalidName
from fastapi import APIRouter, HTTPException, Request

from analytics.calibrated import Calibrated, CalibrationError, solve
from analytics.calibration_store import MAX_VALUE_BYTES, CalibrationStore, CalibrationStoreError
from courtside.court import model as court
from courtside.court.calibration import COURT_POINTS, FloorCalibration
from courtside.natsio import now_ns

#: Samples per line of the overlay polylines (enough for the lens distortion to bend them).
SAMPLES = 16
#: Largest request body (bytes): the store's largest value (a record of 64 points is a few KiB).
MAX_BODY_BYTES = MAX_VALUE_BYTES
#: Largest image side (pixels) a calibration may be for (8K is 7680).
MAX_SIDE_PX = 16384


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


def _residuals(record: CalibrationRecord, cal: Calibrated) -> dict[str, dict[str, float | None]]:
    """Per clicked point: ``px``, its click against its model point projected (pixels; None for a point off
    the floor of a floor calibration), and ``cm``, its click mapped to the floor against its model
    position (floor points only, else None). NaN (a point behind the camera) is None too."""
    names = [n for n in record.points if n in COURT_POINTS]
    clicks = np.array([record.points[n] for n in names], np.float64).reshape(-1, 2)
    world = np.array([COURT_POINTS[n] for n in names], np.float64).reshape(-1, 3)
    on_floor = world[:, 2] == 0.0
    px = np.full(len(names), np.nan)
    if cal.camera is not None:
        uv, _ = cal.camera.project(world)
        px = np.linalg.norm(uv - clicks, axis=1)
    elif on_floor.any():
        assert isinstance(cal.floor, FloorCalibration)
        px[on_floor] = np.linalg.norm(cal.floor.floor_to_image(world[on_floor, :2]) - clicks[on_floor], axis=1)
    cm = np.full(len(names), np.nan)
    if on_floor.any():
        mapped = cal.floor.image_to_floor(clicks[on_floor])
        cm[on_floor] = np.linalg.norm(mapped - world[on_floor, :2], axis=1) * 100.0

    def num(value: float, digits: int) -> float | None:
        return round(float(value), digits) if math.isfinite(value) else None

    return {n: {"px": num(p, 2), "cm": num(c, 2)} for n, p, c in zip(names, px, cm, strict=True)}


def _stat(values: list[float | None], how: str) -> float | None:
    finite = [v for v in values if v is not None]
    if not finite:
        return None
    return round(max(finite) if how == "max" else sum(finite) / len(finite), 2)


def describe(record: CalibrationRecord, cal: Calibrated) -> dict[str, Any]:
    """What the page shows: kind, revision, source (None: points as given), errors (px; cm at the clicked floor points: mean, max and per
    point) and the overlay lines. Every number is finite or null (the answer is strict JSON)."""
    residuals = _residuals(record, cal)
    cms = [r["cm"] for r in residuals.values()]
    pxs = [r["px"] for r in residuals.values()]
    return {"camera": record.camera, "revision": cal.revision, "kind": cal.kind, "source": record.source,
            "width": record.width,
            "height": record.height, "points": {n: list(uv) for n, uv in record.points.items()},
            "reprojection_px": round(cal.reprojection_px, 3) if math.isfinite(cal.reprojection_px) else None,
            "reprojection_max_px": _stat(pxs, "max"),
            "floor_error_cm": _stat(cms, "mean"), "floor_error_max_cm": _stat(cms, "max"),
            "residuals": residuals, "lines": _polylines(cal)}


def _store(request: Request) -> CalibrationStore:
    store = getattr(request.app.state, "calibration_store", None)
    if not isinstance(store, CalibrationStore):
        raise HTTPException(503, "the calibration store is not open yet")
    return store


router = APIRouter()


@router.get("/api/calibration/points")
async def points() -> dict[str, Any]:
    return {"points": {n: list(p) for n, p in COURT_POINTS.items()}}


def _check_image(record: CalibrationRecord) -> None:
    """The image size and the clicks within reason: a side over :data:`MAX_SIDE_PX`, or a click more
    than one image size outside the image, is a mistake (a 422), not a calibration."""
    w, h = record.width, record.height
    if w > MAX_SIDE_PX or h > MAX_SIDE_PX:
        raise ContractError(f"the image is {w} x {h} pixels; at most {MAX_SIDE_PX} on a side")
    for name, (u, v) in record.points.items():
        if not (-w <= u <= 2 * w and -h <= v <= 2 * h):
            raise ContractError(f"point {name[:64]!r}: pixel ({u:.6g}, {v:.6g}) is far outside the "
                                f"{w} x {h} image")


async def _solved(camera: str, request: Request) -> tuple[CalibrationRecord, Calibrated]:
    """The request's record, solved; 413, 400 or 422 (with the reason) when it cannot be."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the calibration body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ContractError("the body must be an object with width, height and points")
        record = CalibrationRecord.from_json(json.dumps({**data, "v": 1, "camera": camera, "set_ns": now_ns()}))
        _check_image(record)
        cal = await asyncio.to_thread(solve, record, 0)  # a focal-length search: tens of ms
    except (ContractError, InvalidName, CalibrationError) as exc:
        raise HTTPException(422, str(exc)) from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError, over-long integers
        raise HTTPException(400, f"not JSON: {str(exc)[:200]}") from None
    return record, cal


@router.post("/api/calibration/{camera}/solve")
async def solve_only(camera: str, request: Request) -> dict[str, Any]:
    record, cal = await _solved(camera, request)
    return {**describe(record, cal), "revision": None}


@router.post("/api/calibration/{camera}")
async def put(camera: str, request: Request) -> dict[str, Any]:
    record, cal = await _solved(camera, request)
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
