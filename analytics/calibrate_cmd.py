"""``courtside calibrate CAMERA [POINTS.json]``: set (or show) a camera's calibration in the store.

``POINTS.json`` is ``{"width": W, "height": H, "points": {"near left corner": [u, v], ...}}``:
the clicked court points (names of ``courtside.court.calibration.COURT_POINTS``) in
pixels of a W x H image. The points are solved first (a calibration that cannot be
solved is refused and nothing is stored), then put in the ``calibration`` bucket; the
analytics service picks the new revision up at once. Without ``POINTS.json`` the
stored calibration is printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError

from analytics.calibrate_auto import auto_calibrate, decode_frame, next_frame
from analytics.calibrated import CalibrationError, solve
from analytics.calibration_store import CalibrationStore, CalibrationStoreError
from courtside.court.line_fit import LineFitError
from courtside.natsio import NatsUnavailable, connect, now_ns

#: How long --auto waits for a frame on NATS (seconds).
FRAME_TIMEOUT_S = 10.0


def record_from_file(camera: str, path: Path) -> CalibrationRecord:
    """The record of ``camera`` from a points file; ContractError (or OSError) says what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{path}: must be an object with width, height and points")
    return CalibrationRecord.from_json(json.dumps({**data, "v": 1, "camera": camera, "set_ns": now_ns()}))


async def _run(url: str, camera: str, path: Path | None) -> int:
    nc = await connect(url, "courtside-calibrate")
    try:
        store = await CalibrationStore.open(nc)
        if path is None:
            found = await store.get(camera)
            if found is None:
                print(f"{camera}: no calibration stored", file=sys.stderr)
                return 1
            record, revision = found
            solved = solve(record, revision)
            print(json.dumps({"camera": camera, "revision": revision, "kind": solved.kind,
                              "reprojection_px": round(solved.reprojection_px, 3),
                              "record": json.loads(record.to_json())}, indent=2))
            return 0
        record = record_from_file(camera, path)
        solved = solve(record, 1)
        revision = await store.put(record)
        print(f"{camera}: calibration revision {revision} stored ({solved.kind}, mean reprojection "
              f"{solved.reprojection_px:.2f} px, {len(record.points)} points)")
        return 0
    finally:
        await nc.close()


async def _run_auto(url: str, camera: str, image: Path | None) -> int:
    nc = await connect(url, "courtside-calibrate")
    try:
        store = await CalibrationStore.open(nc)
        payload = (await asyncio.to_thread(image.read_bytes) if image is not None
                   else await next_frame(nc, camera, FRAME_TIMEOUT_S))
        frame = decode_frame(payload)
        found = await store.get(camera)
        start = None
        if found is not None:
            try:
                start = solve(*found).camera
            except CalibrationError:
                start = None
        auto = await asyncio.to_thread(auto_calibrate, camera, frame, start, now_ns())
        solved = solve(auto.record, 1)
        revision = await store.put(auto.record)
        how = "refined from the stored calibration" if auto.refined else "searched from no start"
        print(f"{camera}: calibration revision {revision} stored (auto, {how}: {auto.fit.inliers:.0%} of lines "
              f"matched, mean line distance {auto.fit.residual_px:.2f} px; {solved.kind}, mean reprojection "
              f"{solved.reprojection_px:.2f} px, {len(auto.record.points)} points)")
        return 0
    finally:
        await nc.close()


def calibrate(nats_url: str, camera: str, points: Path | None, *, auto: bool = False,
              image: Path | None = None) -> int:
    """Store ``points`` as ``camera``'s calibration (or show the stored one; with ``auto``, fit the court
    lines of ``image`` or of the camera's next frame); the exit status."""
    try:
        if auto:
            return asyncio.run(_run_auto(nats_url, camera, image))
        return asyncio.run(_run(nats_url, camera, points))
    except (ContractError, CalibrationError, LineFitError, OSError) as exc:
        print(f"courtside calibrate: {exc}", file=sys.stderr)
        return 2
    except (CalibrationStoreError, NatsUnavailable) as exc:
        print(f"courtside calibrate: {exc}", file=sys.stderr)
        return 1
