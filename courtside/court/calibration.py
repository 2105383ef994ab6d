"""Camera calibration from clicked court points: the floor homography and the full camera pose.

An operator clicks named points of the court (:data:`COURT_POINTS`, world metres of
:mod:`courtside.court.model`) on an image. :func:`solve_floor` fits the floor
homography (pixels <-> metres on the plane z = 0) from the floor points;
:func:`solve_pose` fits the camera pose (``cv2.solvePnP`` against the 3D court
model) and, when no intrinsics are given, the focal length by a search that
minimises the reprojection error (square pixels, centred principal point, no
distortion assumed). Both report the reprojection error in pixels and map
pixels to floor metres. Pure: numpy and cv2, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from courtside.court import model as court
from courtside.court.camera import Camera, FloatArray, Intrinsics, Pose

_NS = court.NET_Y_M - court.SERVICE_FROM_NET_M
_FS = court.NET_Y_M + court.SERVICE_FROM_NET_M
_EXT = court.CENTRE_LINE_EXTENSION_M
_W = court.HALF_WIDTH_M
_L = court.LENGTH_M

#: Named court points an operator can click, world metres (x across, y along, z up).
COURT_POINTS: dict[str, court.Point3] = {
    "near left corner": (-_W, 0.0, 0.0),
    "near right corner": (_W, 0.0, 0.0),
    "far left corner": (-_W, _L, 0.0),
    "far right corner": (_W, _L, 0.0),
    "near service line left end": (-_W, _NS, 0.0),
    "near service line right end": (_W, _NS, 0.0),
    "far service line left end": (-_W, _FS, 0.0),
    "far service line right end": (_W, _FS, 0.0),
    "near service T": (0.0, _NS, 0.0),
    "far service T": (0.0, _FS, 0.0),
    "centre line near end": (0.0, _NS - _EXT, 0.0),
    "centre line far end": (0.0, _FS + _EXT, 0.0),
    "net left foot": (-_W, court.NET_Y_M, 0.0),
    "net right foot": (_W, court.NET_Y_M, 0.0),
    "net left post top": (-_W, court.NET_Y_M, court.NET_POST_M),
    "net right post top": (_W, court.NET_Y_M, court.NET_POST_M),
    "net centre top": (0.0, court.NET_Y_M, court.NET_CENTRE_M),
    "near left glass top": (-_W, 0.0, court.BACK_GLASS_M),
    "near right glass top": (_W, 0.0, court.BACK_GLASS_M),
    "far left glass top": (-_W, _L, court.BACK_GLASS_M),
    "far right glass top": (_W, _L, court.BACK_GLASS_M),
    "near left mesh top": (-_W, 0.0, court.BACK_MESH_TOP_M),
    "near right mesh top": (_W, 0.0, court.BACK_MESH_TOP_M),
    "far left mesh top": (-_W, _L, court.BACK_MESH_TOP_M),
    "far right mesh top": (_W, _L, court.BACK_MESH_TOP_M),
}

#: Off-floor points solve_pose needs besides the floor ones, when the intrinsics are estimated.
MIN_OFF_FLOOR = 2


class CalibrationError(ValueError):
    """Clicked points that cannot calibrate a camera; the message says which and why."""


def _checked(points: Mapping[str, tuple[float, float]]) -> tuple[list[str], FloatArray, FloatArray]:
    """Names, world points (N, 3) and pixels (N, 2) of valid clicks, or a CalibrationError."""
    names, world, pixels = [], [], []
    for name, uv in points.items():
        if name not in COURT_POINTS:
            raise CalibrationError(f"unknown court point {name!r}; known: {', '.join(sorted(COURT_POINTS))}")
        try:
            u, v = float(uv[0]), float(uv[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise CalibrationError(f"point {name!r}: pixel {uv!r} is not two numbers") from exc
        if not (math.isfinite(u) and math.isfinite(v)):
            raise CalibrationError(f"point {name!r}: pixel ({u}, {v}) is not finite")
        names.append(name)
        world.append(COURT_POINTS[name])
        pixels.append((u, v))
    return names, np.asarray(world, np.float64).reshape(-1, 3), np.asarray(pixels, np.float64).reshape(-1, 2)


def _spread(pts: FloatArray) -> float:
    """How far 2D points are from all lying on one line: the smaller principal spread over the larger."""
    centred = pts - pts.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    return float(s[1] / s[0]) if s[0] > 0 else 0.0


def _camera_matrix(k: Intrinsics) -> FloatArray:
    return np.array([[k.fx, 0.0, k.cx], [0.0, k.fy, k.cy], [0.0, 0.0, 1.0]])


def _dist(k: Intrinsics) -> FloatArray:
    return np.array([k.k1, k.k2, 0.0, 0.0])


def undistort(pixels: npt.ArrayLike, intrinsics: Intrinsics | None) -> FloatArray:
    """Pixels (N, 2) of a distorted image -> the pixels a distortion-free lens would give (same K)."""
    pts = np.asarray(pixels, np.float64).reshape(-1, 2)
    if intrinsics is None or not (intrinsics.k1 or intrinsics.k2):
        return pts
    k = _camera_matrix(intrinsics)
    out = cv2.undistortPoints(pts.reshape(-1, 1, 2), k, _dist(intrinsics), P=k)
    return np.asarray(out.reshape(-1, 2), np.float64)


@dataclass(frozen=True, slots=True)
class FloorCalibration:
    """Pixels <-> floor metres. ``homography`` maps undistorted pixels to floor (x, y) metres.

    ``intrinsics`` (when the lens is known) undistorts pixels first; ``reprojection_px``
    is the mean distance (pixels) between the clicks and the floor points mapped back.
    """

    homography: FloatArray
    intrinsics: Intrinsics | None
    reprojection_px: float
    points_used: tuple[str, ...]

    def image_to_floor(self, pixels: npt.ArrayLike) -> FloatArray:
        """Pixels (N, 2) -> floor points (N, 2) metres (points above the horizon give meaningless values)."""
        pts = undistort(pixels, self.intrinsics)
        out = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), self.homography)
        return np.asarray(out.reshape(-1, 2), np.float64)

    def floor_to_image(self, floor: npt.ArrayLike) -> FloatArray:
        """Floor points (N, 2) metres -> undistorted pixels (N, 2)."""
        pts = np.asarray(floor, np.float64).reshape(-1, 1, 2)
        out = cv2.perspectiveTransform(pts, np.linalg.inv(self.homography))
        return np.asarray(out.reshape(-1, 2), np.float64)


def solve_floor(points: Mapping[str, tuple[float, float]], *, intrinsics: Intrinsics | None = None,
                ransac_px: float | None = None) -> FloorCalibration:
    """The floor homography from the clicked floor points (at least 4, not all on one line).

    Off-floor points in ``points`` are ignored here. ``ransac_px`` enables RANSAC with
    that reprojection threshold (pixels) to reject a mis-click; None uses all points.
    """
    names, world, pixels = _checked(points)
    on_floor = world[:, 2] == 0.0
    if int(on_floor.sum()) < 4:
        raise CalibrationError(f"the floor homography needs at least 4 floor points; got {int(on_floor.sum())}")
    floor, px = world[on_floor, :2], undistort(pixels[on_floor], intrinsics)
    if _spread(floor) < 0.05:
        raise CalibrationError("the floor points lie (nearly) on one line; click points across the court")
    if _spread(px) < 0.01:
        raise CalibrationError("the clicked pixels lie (nearly) on one line")
    method, thresh = (cv2.RANSAC, ransac_px) if ransac_px is not None else (0, 3.0)
    try:
        # Fitted floor -> pixels so that the RANSAC threshold is in pixels; inverted after.
        h, mask = cv2.findHomography(floor, px, method, thresh)
        if h is None:
            raise CalibrationError("no homography fits these points (degenerate layout)")
        used = mask.ravel().astype(bool) if mask is not None else np.ones(len(px), bool)
        if ransac_px is not None and used.sum() >= 4:  # refit on the inliers alone (least squares)
            h, _ = cv2.findHomography(floor[used], px[used], 0)
        hom = np.linalg.inv(np.asarray(h, np.float64))
    except (cv2.error, np.linalg.LinAlgError) as exc:
        raise CalibrationError(f"no homography fits these points: {_cv2_reason(exc)}") from None
    back = cv2.perspectiveTransform(floor.reshape(-1, 1, 2), np.linalg.inv(hom)).reshape(-1, 2)
    err = float(np.linalg.norm(back - px, axis=1)[used].mean())
    floor_names = tuple(n for n, f in zip(names, on_floor, strict=True) if f)
    return FloorCalibration(hom, intrinsics, err,
                            tuple(n for n, u in zip(floor_names, used, strict=True) if u))


@dataclass(frozen=True, slots=True)
class PoseCalibration:
    """A full camera (intrinsics and pose) fitted to clicked points; ``reprojection_px`` mean, pixels."""

    camera: Camera
    reprojection_px: float
    points_used: tuple[str, ...]

    def image_to_floor(self, pixels: npt.ArrayLike) -> FloatArray:
        """Pixels (N, 2) -> floor points (N, 2) metres: each pixel's ray met with the plane z = 0.

        Rays parallel to or pointing away from the floor give NaN.
        """
        k = self.camera.intrinsics
        pts = np.asarray(pixels, np.float64).reshape(-1, 1, 2)
        norm = cv2.undistortPoints(pts, _camera_matrix(k), _dist(k)).reshape(-1, 2)
        rays = np.column_stack([norm, np.ones(len(norm))]) @ self.camera.pose.rotation  # R^T r, world frame
        centre = self.camera.pose.position
        with np.errstate(divide="ignore", invalid="ignore"):
            s = -centre[2] / rays[:, 2]
        s = np.where(s > 0, s, np.nan)
        return np.asarray(centre[:2] + rays[:, :2] * s[:, None], np.float64)


def _cv2_reason(exc: Exception) -> str:
    """OpenCV's message without its source path and line (the last line of ``cv2.error``'s text)."""
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:200]


def _pnp(world: FloatArray, pixels: FloatArray, k: Intrinsics) -> tuple[Pose, float]:
    try:
        ok, rvec, tvec = cv2.solvePnP(world, pixels, _camera_matrix(k), _dist(k), flags=cv2.SOLVEPNP_ITERATIVE)
    except cv2.error as exc:
        raise CalibrationError(f"solvePnP failed on these points: {_cv2_reason(exc)}") from None
    if not ok:
        raise CalibrationError("solvePnP found no pose for these points")
    pose = Pose(np.asarray(cv2.Rodrigues(rvec)[0], np.float64), np.asarray(tvec, np.float64).ravel())
    uv, _ = Camera(k, pose).project(world)
    dist = np.linalg.norm(uv - pixels, axis=1)
    finite = dist[np.isfinite(dist)]  # points behind the camera project to NaN (left out, as nanmean would)
    return pose, float(finite.mean()) if len(finite) else math.inf


def solve_pose(points: Mapping[str, tuple[float, float]], *, width: int, height: int,
               intrinsics: Intrinsics | None = None) -> PoseCalibration:
    """The camera pose (and, without ``intrinsics``, its focal length) from clicked points.

    Needs at least 4 floor points not on one line; estimating the focal length also
    needs :data:`MIN_OFF_FLOOR` points off the floor (net posts, wall tops). ``width``
    and ``height`` are the image size in pixels.
    """
    names, world, pixels = _checked(points)
    floor = world[world[:, 2] == 0.0]
    if len(floor) < 4:
        raise CalibrationError(f"the pose needs at least 4 floor points; got {len(floor)}")
    if _spread(floor[:, :2]) < 0.05:
        raise CalibrationError("the floor points lie (nearly) on one line; click points across the court")
    if _spread(pixels) < 0.01:
        raise CalibrationError("the clicked pixels lie (nearly) on one line")
    if intrinsics is not None:
        pose, err = _pnp(world, pixels, intrinsics)
        if not math.isfinite(err):
            raise CalibrationError("no camera pose puts the clicked points in front of the camera")
        return PoseCalibration(Camera(intrinsics, pose), err, tuple(names))
    if len(world) - len(floor) < MIN_OFF_FLOOR:
        raise CalibrationError(f"estimating the focal length needs at least {MIN_OFF_FLOOR} points off the "
                               f"floor (net post tops, wall tops); got {len(world) - len(floor)}")

    def fit(hfov: float) -> tuple[float, Intrinsics, Pose]:
        k = Intrinsics.from_hfov(width, height, hfov)
        pose, err = _pnp(world, pixels, k)
        return err, k, pose

    # A coarse scan over the horizontal field of view, then golden-section refinement.
    scan = [fit(h) for h in np.arange(20.0, 120.0, 2.0)]
    best = int(np.argmin([s[0] for s in scan]))
    lo, hi = 20.0 + 2.0 * max(0, best - 1), 20.0 + 2.0 * min(len(scan) - 1, best + 1)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = fit(a), fit(b)
    for _ in range(30):
        if fa[0] < fb[0]:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = fit(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = fit(b)
    err, k, pose = min((fa, fb, scan[best]), key=lambda s: s[0])
    if not math.isfinite(err):
        raise CalibrationError("no camera pose puts the clicked points in front of the camera")
    return PoseCalibration(Camera(k, pose), err, tuple(names))


class FloorMap(Protocol):
    """Anything that maps pixels (N, 2) to floor metres (N, 2): a floor or pose calibration, a line fit."""

    def image_to_floor(self, pixels: npt.ArrayLike) -> FloatArray: ...


def floor_error_cm(image_to_floor: FloorMap, truth: Camera, *,
                   step_m: float = 1.0) -> float:
    """Mean floor error (centimetres) over a grid of the court seen by ``truth``.

    Each grid point is projected with the true camera and mapped back with the
    calibration; points outside the image are skipped.
    """
    xs = np.arange(-_W, _W + 1e-9, step_m)
    ys = np.arange(0.0, _L + 1e-9, step_m)
    grid = np.array([(x, y, 0.0) for x in xs for y in ys])
    uv, _ = truth.project(grid)
    seen = truth.in_view(uv)
    if not seen.any():
        raise CalibrationError("no court grid point is in view of the true camera")
    est = image_to_floor.image_to_floor(uv[seen])
    return float(np.linalg.norm(est - grid[seen, :2], axis=1).mean() * 100.0)
