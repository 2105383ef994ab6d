"""Automatic calibration from the court lines, on simulator frames (ground truth known)."""

from __future__ import annotations

import numpy as np
import pytest

from courtside.court import line_fit
from courtside.court.calibration import floor_error_cm
from courtside.court.camera import Camera, Intrinsics, Pose, broadcast_camera
from courtside.sim.render import PlayerPose, draw_background, render_frame
from courtside.sim.style import random_camera, random_style

W, H = 1280, 720
PLAYERS = [PlayerPose(-2.0, 4.0, 0.0, 0.0), PlayerPose(2.0, 6.5, 0.3, 0.5),
           PlayerPose(-1.5, 14.0, 0.0, 1.0), PlayerPose(2.5, 16.0, 0.0, 0.0)]


def frame(cam: Camera, seed: int) -> np.ndarray:
    """A simulated frame of ``cam`` with four players and the ball (style drawn from ``seed``)."""
    style = random_style(np.random.default_rng(seed), W, H, camera=cam)
    img, _ = render_frame(draw_background(style), style, np.array([0.5, 6.0, 1.2]), np.zeros(3), PLAYERS)
    return img


def test_masks_find_the_lines() -> None:
    cam = broadcast_camera(W, H)
    img = frame(cam, 0)
    mask = line_fit.line_mask(img)
    # The near service line's middle is on the mask (within 2 px), a turf pixel between lines is not.
    u, v, _ = cam.project_point(1.0, 3.05)
    patch = mask[round(v) - 2:round(v) + 3, round(u) - 2:round(u) + 3]
    assert patch.any()
    u, v, _ = cam.project_point(2.5, 7.0)
    assert not mask[round(v) - 2:round(v) + 3, round(u) - 2:round(u) + 3].any()
    edges = line_fit.edge_mask(img)
    # The walls' frames: most samples of the far back wall's bottom edge lie within 3 px of a dark ridge.
    dist = line_fit.distance_map(edges)
    uv, _ = cam.project([(x, 20.0, 0.0) for x in np.linspace(-4.5, 4.5, 19)])
    near = [dist[round(v), round(u)] <= 3.0 for u, v in uv]
    assert np.mean(near) > 0.7, near


def test_no_lines_is_an_error() -> None:
    with pytest.raises(line_fit.LineFitError, match="no court line"):
        line_fit.search_lines(np.full((H, W, 3), (40, 120, 60), np.uint8))


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_search_from_no_start(seed: int | None) -> None:
    """From no start: the default camera and randomised poses and lenses, floor error <= 10 cm."""
    cam = broadcast_camera(W, H) if seed is None else random_camera(np.random.default_rng(seed), W, H)
    fit = line_fit.search_lines(frame(cam, 50 + (seed or 0)))
    err = floor_error_cm(fit, cam)
    assert err <= 10.0, (err, fit.residual_px, fit.inliers)
    assert fit.inliers > 0.75
    assert fit.residual_px < 2.0


def test_refines_a_rough_start() -> None:
    """A manual result off by decimetres and degrees (a mis-clicked solve) is refined to <= 10 cm."""
    cam = random_camera(np.random.default_rng(3), W, H)
    k = cam.intrinsics
    rough_k = Intrinsics.from_hfov(W, H, 2 * np.degrees(np.arctan((W / 2) / k.fx)) + 3.0)
    pos = cam.pose.position + np.array([0.3, -0.4, 0.25])
    rough = Camera(rough_k, Pose.look_at(tuple(pos), (0.3, 9.0, 0.0), 1.0))
    img = frame(cam, 7)
    before = floor_error_cm(line_fit.LineFit(rough, 0.0, 0.0), cam)
    fit = line_fit.fit_lines(img, rough)
    after = floor_error_cm(fit, cam)
    assert before > 30.0, before
    assert after <= 10.0, (before, after)


def test_refine_accepts_another_image_size() -> None:
    """A start calibrated at another resolution of the same aspect is scaled to the image first."""
    cam = broadcast_camera(W, H)
    small = Camera(cam.intrinsics.scaled(640, 360), cam.pose)
    fit = line_fit.fit_lines(frame(cam, 4), small)
    assert (fit.camera.width, fit.camera.height) == (W, H)
    assert floor_error_cm(fit, cam) <= 10.0
