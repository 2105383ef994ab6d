"""Rallies segmented from the simulator's ground-truth ball, matched to its rally events by time IoU."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.bounces import Bounce, detect
from analytics.rallies import Rally, RallyTracker
from courtside.sim.clip import Simulation


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


@pytest.mark.parametrize("seed", [1, 2])
def test_rallies_match_truth(seed: int) -> None:
    sim = Simulation(seed, width=320, height=180)
    frames = list(sim.frames(900))
    times = np.array([f.truth.t for f in frames])
    pos = np.array([f.truth.position for f in frames])
    by_frame: dict[int, list[Bounce]] = {}
    for b in detect(times, pos):
        by_frame.setdefault(b.index, []).append(b)
    tracker, got = RallyTracker(), list[Rally]()
    truth: list[tuple[float, float]] = []
    start: float | None = None
    for f in frames:
        for e in f.truth.events:
            if e.kind == "rally_start":
                start = f.truth.t
            elif e.kind == "rally_end" and start is not None:
                truth.append((start, f.truth.t))
                start = None
        r = tracker.update(f.truth.t, f.truth.position, by_frame.get(f.truth.index, []))
        if r is not None:
            got.append(r)
    assert len(truth) >= 3
    ious = [max((iou(t, (r.start, r.end)) for r in got), default=0.0) for t in truth]
    assert min(ious) >= 0.8, ious
    assert len(got) == len(truth)


def test_out_of_order_refused() -> None:
    tracker = RallyTracker()
    tracker.update(1.0, (0.0, 5.0, 1.0))
    with pytest.raises(ValueError, match="not after"):
        tracker.update(1.0, (0.0, 5.0, 1.0))
    assert tracker.update(1.1, None) is None
