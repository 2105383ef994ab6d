"""Calibration from clicked points on the simulator's cameras (ground truth known)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from courtside.court.calibration import (
    COURT_POINTS,
    CalibrationError,
    floor_error_cm,
    solve_floor,
    solve_pose,
)
from courtside.court.camera import Camera, Intrinsics, broadcast_camera
from courtside.sim.style import random_camera

W, H = 1280, 720


def clicks(cam: Camera, rng: np.random.Generator, noise_px: float = 1.0) -> dict[str, tuple[float, float]]:
    """The true projections of every court point in view, plus Gaussian noise (pixels)."""
    names = list(COURT_POINTS)
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    seen = cam.in_view(uv)
    noisy = uv + rng.normal(0.0, noise_px, uv.shape)
    return {n: (float(p[0]), float(p[1])) for n, p, s in zip(names, noisy, seen, strict=True) if s}


def undistorted(cam: Camera) -> Camera:
    k = cam.intrinsics
    return Camera(Intrinsics(k.width, k.height, k.fx, k.fy, k.cx, k.cy), cam.pose)


def test_floor_homography_default_camera() -> None:
    cam = broadcast_camera(W, H)
    cal = solve_floor(clicks(cam, np.random.default_rng(0)))
    err = floor_error_cm(cal, cam)
    assert err <= 5.0, err
    assert cal.reprojection_px < 2.0
    # round trip pixels -> floor -> pixels
    uv, _ = cam.project([(1.0, 5.0, 0.0)])
    assert np.allclose(cal.floor_to_image(cal.image_to_floor(uv)), uv, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_random_poses_known_lens(seed: int) -> None:
    """Randomised pose and lens (radial distortion included), the lens known: floor and pose <= 5 cm."""
    cam = random_camera(np.random.default_rng(seed), W, H)
    pts = clicks(cam, np.random.default_rng(100 + seed))
    floor = solve_floor(pts, intrinsics=cam.intrinsics)
    assert floor_error_cm(floor, cam) <= 5.0
    pose = solve_pose(pts, width=W, height=H, intrinsics=cam.intrinsics)
    assert floor_error_cm(pose, cam) <= 5.0
    assert pose.reprojection_px < 2.0
    assert np.linalg.norm(pose.camera.pose.position - cam.pose.position) < 0.3


@pytest.mark.parametrize("seed", range(4))
def test_random_poses_focal_estimated(seed: int) -> None:
    """No intrinsics given: the focal length search finds the lens within 3 % and the floor within 5 cm."""
    cam = undistorted(random_camera(np.random.default_rng(seed), W, H))
    pts = clicks(cam, np.random.default_rng(200 + seed))
    cal = solve_pose(pts, width=W, height=H)
    assert abs(cal.camera.intrinsics.fx / cam.intrinsics.fx - 1) < 0.03
    assert floor_error_cm(cal, cam) <= 5.0
    assert cal.reprojection_px < 2.0


def test_ransac_rejects_a_misclick() -> None:
    cam = broadcast_camera(W, H)
    pts = clicks(cam, np.random.default_rng(1))
    u, v = pts["near service T"]
    pts["near service T"] = (u + 60.0, v - 40.0)
    assert floor_error_cm(solve_floor(pts, ransac_px=4.0), cam) <= 5.0
    assert "near service T" not in solve_floor(pts, ransac_px=4.0).points_used


def test_bad_input_refused() -> None:
    cam = broadcast_camera(W, H)
    pts = clicks(cam, np.random.default_rng(2), noise_px=0.0)
    three = {n: pts[n] for n in ("near service line left end", "near service line right end", "far service T")}
    with pytest.raises(CalibrationError, match="at least 4 floor points"):
        solve_floor(three)
    with pytest.raises(CalibrationError, match="at least 4 floor points"):
        solve_pose(three, width=W, height=H)
    collinear = {n: pts[n] for n in ("near service T", "far service T", "centre line near end", "centre line far end")}
    with pytest.raises(CalibrationError, match="one line"):
        solve_floor(collinear)
    with pytest.raises(CalibrationError, match="one line"):
        solve_pose({**collinear, "net left post top": pts["net left post top"]}, width=W, height=H)
    with pytest.raises(CalibrationError, match="unknown court point 'centre spot'"):
        solve_floor({**pts, "centre spot": (1.0, 2.0)})
    with pytest.raises(CalibrationError, match="not finite"):
        solve_floor({**pts, "near left corner": (math.nan, 3.0)})
    with pytest.raises(CalibrationError, match="not two numbers"):
        solve_floor({**pts, "near left corner": ("a", 3.0)})  # type: ignore[dict-item]
    floor_only = {n: p for n, p in pts.items() if COURT_POINTS[n][2] == 0.0}
    with pytest.raises(CalibrationError, match="off the floor"):
        solve_pose(floor_only, width=W, height=H)
