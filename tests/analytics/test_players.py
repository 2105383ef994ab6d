"""Player positions from ground-truth boxes on the simulator's court, through a clicked calibration."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.players import PlayerStats, Zone, positions, zone_of
from courtside.court.calibration import COURT_POINTS, solve_floor
from courtside.court.camera import broadcast_camera
from courtside.sim.clip import Simulation


def test_positions_from_truth_boxes_within_20_cm() -> None:
    cam = broadcast_camera(640, 360)
    rng = np.random.default_rng(0)
    names = list(COURT_POINTS)
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    seen = cam.in_view(uv)
    clicks = {n: (float(p[0]), float(p[1])) for n, p, s in zip(names, uv + rng.normal(0, 1, uv.shape), seen,
                                                                 strict=True) if s and COURT_POINTS[n][2] == 0}
    cal = solve_floor(clicks)
    sim = Simulation(3, camera=cam)
    errors, stats = [], [PlayerStats() for _ in range(4)]
    for frame in sim.frames(90):
        truth = [(p.x, p.y) for p in sim.rally.players]
        feet, _ = cam.project([(x, y, 0.0) for x, y in truth])
        boxes = [(float(u) - 15, float(v) - 60, float(u) + 15, float(v) + rng.normal(0, 1.0)) for u, v in feet]
        got = positions(cal, boxes)
        errors += [float(np.hypot(g[0] - x, g[1] - y)) for g, (x, y) in zip(got, truth, strict=True)]
        for s, g in zip(stats, got, strict=True):
            s.update(frame.truth.t, g)
    assert float(np.median(errors)) <= 0.20
    assert all(abs(sum(s.zone_s.values()) - 89 / 30) < 1e-9 for s in stats)


def test_stats_and_refusals() -> None:
    s = PlayerStats()
    s.update(0.0, (0.0, 2.0))
    s.update(1.0, (3.0, 6.0))
    assert s.distance_m == pytest.approx(5.0) and s.speed_mps == pytest.approx(5.0)
    s.update(1.5, (3.0, 30.0))  # a 48 m/s jump: moved, not run
    assert s.distance_m == pytest.approx(5.0)
    assert s.zone_s[Zone.BACK] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not after"):
        s.update(1.5, (0.0, 0.0))
    with pytest.raises(ValueError, match="not finite"):
        s.update(2.0, (float("nan"), 0.0))
    assert zone_of(9.0) is Zone.NET and zone_of(14.0) is Zone.TRANSITION and zone_of(19.0) is Zone.BACK
