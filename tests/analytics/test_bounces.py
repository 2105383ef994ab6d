"""Bounces detected from the simulator's ground-truth 3D ball positions, matched to its events."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.bounces import detect
from courtside.sim.clip import Simulation


@pytest.mark.parametrize("seed", [1, 2])
def test_bounces_match_truth(seed: int) -> None:
    sim = Simulation(seed, width=320, height=180)
    times, pos, truth = [], [], []
    for frame in sim.frames(600):
        times.append(frame.truth.t)
        pos.append(frame.truth.position)
        truth += [(frame.truth.index, e.surface) for e in frame.truth.events
                  if e.kind == "bounce"]
    found = detect(np.array(times), np.array(pos))
    used: set[int] = set()
    hits = right = 0
    for idx, surface in truth:
        cands = [k for k, b in enumerate(found) if k not in used and abs(b.index - idx) <= 2]
        if cands:
            k = min(cands, key=lambda k: abs(found[k].index - idx))
            used.add(k)
            hits += 1
            right += found[k].surface is surface
    assert truth, "the clip has bounces"
    recall, precision = hits / len(truth), hits / max(1, len(found))
    assert recall >= 0.9 and precision >= 0.9, (recall, precision, len(truth), len(found))
    assert right / hits >= 0.9


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="increase"):
        detect([0.0, 0.0, 1.0], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="3 times for 2"):
        detect([0.0, 1.0, 2.0], np.zeros((2, 3)))
