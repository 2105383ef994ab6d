"""Ball-candidate finder (background subtraction): pure filter and a synthetic moving ball."""

from __future__ import annotations

import cv2
import numpy as np

from inference.backends.opencv_hog.ball_candidates import BallCandidateFinder, blob_candidates


def test_blob_filter_keeps_small_compact_blobs_best_first() -> None:
    stats = np.array([
        [0, 0, 640, 360, 200000],  # background row
        [100, 100, 10, 10, 78],  # round ball-sized blob
        [200, 100, 10, 10, 50],  # ball-sized but less filled
        [300, 100, 60, 60, 2800],  # too big (a person)
        [400, 100, 2, 2, 4],  # too small (noise)
        [500, 100, 4, 12, 40],  # too elongated
    ])
    found = blob_candidates(stats, 640, 360)
    assert [c.box for c in found] == [(100, 100, 110, 110), (200, 100, 210, 110)]
    assert found[0].score > found[1].score


def test_finds_a_moving_ball_and_keeps_cameras_apart() -> None:
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8), (7, 7), 0)
    finder = BallCandidateFinder()
    hits = 0
    for i in range(40):
        frame = background.copy()
        cx, cy = 60 + i * 12, 120 + i * 3
        cv2.circle(frame, (cx, cy), 5, (0, 230, 255), -1)
        moving = finder.find("court-1", frame)
        still = finder.find("court-2", background)
        assert still == [] or i < 3, "a static scene must yield no candidates once learnt"
        if i >= 10 and moving:
            x1, y1, x2, y2 = moving[0].box
            hits += abs((x1 + x2) / 2 - cx) <= 3 and abs((y1 + y2) / 2 - cy) <= 3
    assert hits >= 25, f"the moving ball was the top candidate in only {hits}/30 frames"
