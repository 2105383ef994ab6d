"""A stored calibration record solved into what analytics needs: a floor map, and the camera when the pose is known.

Pure: the record (clicked court points, :mod:`courtside_contracts.analytics_calibration`)
is solved with :mod:`courtside.court.calibration`: the full pose when it has at least
:data:`~courtside.court.calibration.MIN_OFF_FLOOR` points off the floor (the ball can
then be placed in 3D), else the floor homography alone. Pixels are those of the
record's image (``width`` x ``height``); :meth:`Calibrated.scale_from` maps the pixels of
a published frame of another size onto them.
"""

from __future__ import annotations

from dataclasses import dataclass

from courtside_contracts.analytics_calibration import CalibrationRecord

from courtside.court.calibration import (
    COURT_POINTS,
    MIN_OFF_FLOOR,
    CalibrationError,
    FloorCalibration,
    PoseCalibration,
    solve_floor,
    solve_pose,
)
from courtside.court.camera import Camera

#: Relative difference of aspect ratio (frame vs calibration) beyond which pixels cannot be mapped.
ASPECT_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Calibrated:
    """A solved calibration: ``revision`` of its record in the store, ``kind`` floor or pose."""

    camera_id: str
    revision: int
    kind: str
    floor: FloorCalibration | PoseCalibration
    camera: Camera | None
    width: int
    height: int
    reprojection_px: float

    def scale_from(self, frame_w: int, frame_h: int) -> tuple[float, float] | None:
        """Factors (x, y) from a frame's pixels to the calibration's; None when the aspect ratios differ."""
        sx, sy = self.width / frame_w, self.height / frame_h
        if abs(sx / sy - 1.0) > ASPECT_TOLERANCE:
            return None
        return sx, sy


def solve(record: CalibrationRecord, revision: int) -> Calibrated:
    """Solve ``record`` (store ``revision``); :class:`CalibrationError` says why it cannot be."""
    points = dict(record.points)
    off_floor = sum(1 for name in points if name in COURT_POINTS and COURT_POINTS[name][2] != 0.0)
    if off_floor >= MIN_OFF_FLOOR:
        pose = solve_pose(points, width=record.width, height=record.height)
        return Calibrated(record.camera, revision, "pose", pose, pose.camera, record.width, record.height,
                          pose.reprojection_px)
    floor = solve_floor(points)
    return Calibrated(record.camera, revision, "floor", floor, None, record.width, record.height,
                      floor.reprojection_px)


__all__ = ["Calibrated", "CalibrationError", "solve"]
