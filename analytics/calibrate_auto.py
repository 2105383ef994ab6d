"""``courtside calibrate CAMERA --auto``: a calibration fitted to the court lines of one frame, stored like a clicked one.

The frame is an image file or the next JPEG of ``frames.<camera>`` on NATS. The
start is the stored calibration when the camera has one whose pose is known (the
fit refines it); otherwise, or when that refinement does not match the lines well,
the pose is searched from none (:func:`courtside.court.line_fit.search_lines`).
What is stored is what a manual calibration stores: named court points
(:data:`~courtside.court.calibration.COURT_POINTS`) and their pixels, here the
fitted camera's projections of every point in view, so every reader solves it the
same way and the store's revision is its version.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.subjects import frames_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.court.calibration import COURT_POINTS
from courtside.court.camera import Camera
from courtside.court.line_fit import LineFit, LineFitError, fit_lines, search_lines

#: A fit is accepted when at least this share of model samples and line pixels match (see LineFit.inliers).
MIN_INLIERS = 0.6
#: Projections nearer than this to the image border (pixels) are not stored as points.
BORDER_PX = 2.0


@dataclass(frozen=True, slots=True)
class AutoCalibration:
    """The fitted camera, the record to store and whether it refined a start (else searched from none)."""

    fit: LineFit
    record: CalibrationRecord
    refined: bool


def decode_frame(payload: bytes) -> npt.NDArray[np.uint8]:
    """A JPEG (or PNG) -> BGR image; LineFitError when it is not one."""
    img = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise LineFitError("the frame is not a decodable image")
    return np.asarray(img, np.uint8)


def record_of(camera_id: str, cam: Camera, set_ns: int) -> CalibrationRecord:
    """The court points ``cam`` sees, at their projections: a record solvable like clicked points."""
    names = list(COURT_POINTS)
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    seen = cam.in_view(uv, margin=BORDER_PX)
    points = {n: (float(p[0]), float(p[1])) for n, p, s in zip(names, uv, seen, strict=True) if s}
    if len(points) < 4:
        raise LineFitError(f"the fitted camera sees only {len(points)} court points")
    return CalibrationRecord(camera_id, cam.width, cam.height, points, set_ns)


def auto_calibrate(camera_id: str, image: npt.NDArray[np.uint8], start: Camera | None, set_ns: int) -> AutoCalibration:
    """Fit ``image`` (BGR) from ``start`` (a camera of any size of the same aspect) or from none.

    Blocking (a second to a few): run it off the event loop. :class:`LineFitError`
    when no fit matches the lines well enough (:data:`MIN_INLIERS`).
    """
    fit: LineFit | None = None
    refined = False
    if start is not None:
        fit = fit_lines(image, start)
        refined = fit.inliers >= MIN_INLIERS
    if fit is None or fit.inliers < MIN_INLIERS:
        searched = search_lines(image)
        if fit is None or searched.inliers > fit.inliers:
            fit, refined = searched, False
    if fit.inliers < MIN_INLIERS:
        raise LineFitError(f"the court lines were not matched well enough ({fit.inliers:.0%} of lines matched, "
                           f"{MIN_INLIERS:.0%} needed; mean distance {fit.residual_px:.1f} px): calibrate by hand")
    return AutoCalibration(fit, record_of(camera_id, fit.camera, set_ns), refined)


async def next_frame(nc: NATS, camera_id: str, timeout_s: float) -> bytes:
    """The payload of the next message on ``frames.<camera>``; LineFitError after ``timeout_s`` seconds."""
    try:
        sub = await nc.subscribe(frames_subject(camera_id))
        try:
            msg = await sub.next_msg(timeout=timeout_s)
        finally:
            with contextlib.suppress(NatsError):
                await sub.unsubscribe()
    except (asyncio.TimeoutError, NatsError) as exc:
        if isinstance(exc, asyncio.TimeoutError) or "timeout" in type(exc).__name__.lower():
            raise LineFitError(f"no frame of {camera_id} on {frames_subject(camera_id)} within {timeout_s:g} s "
                               "(is its ingest running?)") from None
        raise LineFitError(f"cannot read a frame of {camera_id}: {exc}") from None
    return bytes(msg.data)
