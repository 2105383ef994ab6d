import math

import cv2
import numpy as np
import pytest

from courtside.court import model as court
from courtside.court.camera import Camera, Intrinsics, Pose, broadcast_camera


def test_dimensions_follow_the_fip_rules() -> None:
    assert (court.LENGTH_M, court.WIDTH_M, court.NET_Y_M) == (20.0, 10.0, 10.0)
    lines = {s.name: s for s in court.lines()}
    assert lines["near service line"].a[1] == pytest.approx(3.05)
    assert lines["far service line"].a[1] == pytest.approx(16.95)
    centre = lines["centre service line"]
    assert (centre.a, centre.b) == ((0.0, pytest.approx(2.85)), (0.0, pytest.approx(17.15)))
    assert court.net_height(0.0) == pytest.approx(0.88)
    assert court.net_height(5.0) == court.net_height(-5.0) == pytest.approx(0.92)
    assert 0.88 < court.net_height(2.5) < 0.92


@pytest.mark.parametrize(("axis", "offset", "along", "z", "expected"), [
    ("y", 0.0, 0.0, 2.0, court.Surface.GLASS), ("y", 20.0, 4.9, 3.5, court.Surface.MESH), ("y", 0.0, 0.0, 4.5, None),
    ("x", -5.0, 1.0, 2.9, court.Surface.GLASS), ("x", 5.0, 3.0, 1.5, court.Surface.GLASS),
    ("x", 5.0, 3.0, 2.5, court.Surface.MESH), ("x", -5.0, 10.0, 2.5, court.Surface.MESH),
    ("x", 5.0, 10.0, 3.2, None), ("x", -5.0, 19.0, 2.9, court.Surface.GLASS),
])
def test_the_enclosure_has_glass_mesh_and_open_air(axis: str, offset: float, along: float, z: float,
                                                   expected: court.Surface | None) -> None:
    panel = court.wall_at(axis, offset, along, z)
    assert (panel.surface if panel else None) == expected
    if panel is not None:
        assert panel.offset == offset


def test_every_wall_panel_stands_on_the_court_outline() -> None:
    for panel in court.walls():
        for x, y, z in panel.corners():
            assert court.in_court(x, y) and 0 <= z <= court.BACK_MESH_TOP_M


def test_look_at_puts_the_target_on_the_principal_point() -> None:
    cam = broadcast_camera(1280, 720, position=(1.0, -6.0, 7.0), target=(0.5, 9.0, 0.0))
    u, v, depth = cam.project_point(0.5, 9.0, 0.0)
    assert (u, v) == (pytest.approx(639.5), pytest.approx(359.5))
    assert depth == pytest.approx(math.dist((1.0, -6.0, 7.0), (0.5, 9.0, 0.0)))
    assert np.allclose(cam.pose.position, (1.0, -6.0, 7.0))


def test_projection_matches_opencv_with_distortion() -> None:
    intr = Intrinsics(640, 360, 500.0, 505.0, 320.0, 180.0, k1=-0.1, k2=0.01)
    pose = Pose.look_at((0.5, -5.0, 6.0), (0.0, 9.0, 0.0), roll_deg=1.5)
    cam = Camera(intr, pose)
    pts = np.array([(-5, 0, 0), (5, 20, 0), (0, 10, 0.88), (3, 15, 2.0)], np.float64)
    ours, _ = cam.project(pts)
    rvec, _ = cv2.Rodrigues(pose.rotation)
    k = np.array([[intr.fx, 0, intr.cx], [0, intr.fy, intr.cy], [0, 0, 1]])
    theirs, _ = cv2.projectPoints(pts, rvec, pose.translation, k, np.array([intr.k1, intr.k2, 0, 0]))
    assert np.allclose(ours, theirs.reshape(-1, 2), atol=1e-6)


def test_far_is_higher_and_smaller_and_behind_is_nan() -> None:
    cam = broadcast_camera(1280, 720)
    near_l, near_r = cam.project_point(-5, 4), cam.project_point(5, 4)
    far_l, far_r = cam.project_point(-5, 18), cam.project_point(5, 18)
    assert far_l[1] < near_l[1]
    assert far_r[0] - far_l[0] < near_r[0] - near_l[0]
    behind = cam.project_point(0.0, -20.0, 7.0)
    assert math.isnan(behind[0]) and behind[2] < 0


def test_scaled_intrinsics_map_pixels_like_a_resize() -> None:
    cam = broadcast_camera(1280, 720)
    small = cam.scaled(640, 360)
    big = cam.project_point(2.0, 12.0, 1.0)
    half = small.project_point(2.0, 12.0, 1.0)
    assert half[0] == pytest.approx((big[0] + 0.5) / 2 - 0.5)
    assert half[1] == pytest.approx((big[1] + 0.5) / 2 - 0.5)


def test_look_at_straight_down_is_refused() -> None:
    with pytest.raises(ValueError, match="straight up or down"):
        Pose.look_at((0.0, 0.0, 10.0), (0.0, 0.0, 0.0))
