"""Hits and each rally's shot count through the pure analytics (no servers), against the simulator's truth.

Measured on seeds 1-6 (1800 frames each, truth annotations, 157 truth hits): hits found while a rally is
in play matched one to one within 2 frames, recall 0.51 and precision 0.74 (per seed: recall 0.40-0.67,
precision 0.67-0.92); finished rallies with exactly the truth's shot count 18 of 41 (0.44; the reversal
count it replaces: 13 of 43, 0.30). The issue's goal of 0.9 is not met: most misses are serves and returns
where the 3D tracker holds the ball at the held-ball height up to the contact (no turn to see), or has no
position around it (a segment break). Since the 3D ball takes a bounce's law as its prior (a serve's drop
bounced is a flight, not held), seeds 1-6: recall 0.55, precision 0.82 (docs/benchmarks.md). The asserts
below keep it from getting worse, on seeds 1 and 4. Seed 1's floor is 0.55 since a carried ball is held
(2026-12-03): the serve of its rally at frames 391-580 is now tracked as a drop (that rally's start is
found), and the hit after its bounce, which a wrong flight had happened to show, is in unplaced frames.
A flight broken in the air within a player's reach is a hit too where the turn rule finds none (the frames
around it unplaced, or placed by a flight fitted past it): seed 1's recall 0.58 -> 0.67, so its floor is
0.65; ten seeds pooled 0.680 / 0.884 -> 0.734 / 0.884, finished rallies with the truth's shot count 36 of 70
(2026-12-04).
"""

from __future__ import annotations

import pytest
from courtside_contracts.analytics import AnalyticsMessage, HitEvent

from analytics.calibrated import solve
from analytics.camera_analytics import CameraAnalytics
from tests.analytics import sim_annotations as sa

CAM = "court-1"
FRAME_NS = round(1e9 / sa.FPS)


@pytest.mark.parametrize(("seed", "recall", "precision", "exact_share"), [(1, 0.65, 0.75, 0.3), (4, 0.55, 0.9, 0.45)])
def test_hits_and_shots_near_truth(seed: int, recall: float, precision: float, exact_share: float) -> None:
    frames = sa.frames(seed, 1800, CAM, "people", "ball")
    state = CameraAnalytics(CAM, solve(sa.clicks(sa.camera(), CAM), 1), "people", "ball")
    messages: list[AnalyticsMessage] = []
    for f in frames:
        messages += state.feed(f.players) + state.feed(f.ball)
    rallies = sa.truth_rallies(frames)
    last = frames[-1].seq - 12  # the newest frames' hits are not settled yet
    truth = [(f.seq, int(e.detail.split()[-1]) + 1) for f in frames for e in f.truth.events
             if e.kind == "hit" and f.seq <= last]
    found: list[HitEvent] = [h for m in messages for h in m.hits
                             if any(a - FRAME_NS <= h.ts <= e + 2 * FRAME_NS for a, e in rallies)]
    used: set[int] = set()
    matched = right = 0
    for seq, track in truth:
        cands = [k for k, h in enumerate(found) if k not in used and abs(h.seq - seq) <= 2]
        if cands:
            k = min(cands, key=lambda k: abs(found[k].seq - seq))
            used.add(k)
            matched += 1
            right += found[k].track_id == track
    assert len(truth) >= 15
    r, p = matched / len(truth), matched / max(1, len(found))
    assert r >= recall and p >= precision, (r, p, len(truth), len(found))
    assert right >= 0.9 * matched, (right, matched)
    by_seq = {f.seq: f for f in frames}
    for h in found:
        assert h.side == ("near" if by_seq[h.seq].player_xy[h.track_id - 1][1] < 10 else "far")
    finished = [m.finished_rally for m in messages if m.finished_rally is not None]
    exact = 0
    for rally in finished:
        shots = sum(1 for f in frames if rally.start_ts <= f.ts <= rally.end_ts
                    for e in f.truth.events if e.kind == "hit")
        exact += rally.shots == shots
    assert len(finished) >= 4 and exact >= exact_share * len(finished), (exact, len(finished))
