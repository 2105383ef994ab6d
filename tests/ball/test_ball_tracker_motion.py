"""The ball tracker's motion model (pure): a ball hidden for a few frames keeps flying on its fitted
parabola, is taken back where the fit says, and distractors, irregular clocks and repeated frames
do not lead it astray. Positions are input pixels, timestamps seconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.backends.ball.peaks import Candidate
from inference.backends.ball.tracker import BallTracker, TrackerParams, predict

FRAME = (512.0, 288.0)
#: A lob in image space: 240 px/s across, thrown up at 300 px/s, 900 px/s^2 of "gravity" (down is +y).
X0, Y0, VX, VY, G = 60.0, 200.0, 240.0, -300.0, 900.0


def ball(t: float) -> tuple[float, float]:
    return X0 + VX * t, Y0 + VY * t + 0.5 * G * t * t


def seen(t: float, score: float = 0.9) -> list[Candidate]:
    x, y = ball(t)
    return [Candidate(x, y, score)]


def test_predict_fits_a_parabola_in_time_from_three_points_a_line_from_two() -> None:
    points = [(*ball(t), t) for t in (0.0, 0.05, 0.09, 0.1)]  # irregular gaps
    assert predict(points, 0.3) == pytest.approx(ball(0.3), abs=1e-6)
    assert predict(points[:2], 0.1) == pytest.approx((X0 + VX * 0.1, Y0 + VY * 0.1 + 0.5 * G * 0.05 * 0.1), abs=1e-6)
    assert predict(points[:1], 0.5) == points[0][:2]


@pytest.mark.parametrize("hidden", [1, 3, 5])
def test_a_ball_hidden_for_n_frames_is_bridged_on_its_parabola_and_taken_back_where_predicted(hidden: int) -> None:
    t = BallTracker(TrackerParams(), frame_px=FRAME)
    ts = [i / 30 for i in range(8 + hidden + 2)]
    for s in ts[:8]:
        assert not t.update(seen(s), s).bridged
    scores = []
    for s in ts[8:8 + hidden]:  # behind a player: no candidate at all
        est = t.update([], s)
        assert est.visible and est.bridged
        assert math.dist((est.x, est.y), ball(s)) < 1.0, f"bridged {s:.3f} s off the parabola"
        scores.append(est.score)
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] < 0.9, "the score decays while hidden"
    # It re-appears faintly (under `score`) where the fit says, with a stronger distractor far off:
    back = ts[8 + hidden]
    x, y = ball(back)
    est = t.update([Candidate(x + 150, y - 90, 0.55), Candidate(x + 1.0, y - 1.0, 0.3)], back)
    assert (est.x, est.y, est.bridged) == (x + 1.0, y - 1.0, False)
    assert len(t.trail) == 8 + 1


def test_a_distractor_far_from_the_prediction_is_not_taken_while_the_ball_is_hidden() -> None:
    t = BallTracker(TrackerParams(), frame_px=FRAME)
    for i in range(6):
        t.update(seen(i / 30), i / 30)
    s = 6 / 30
    x, y = ball(s)
    # A shoe 40 px off the flight, weaker than a new track needs: the ball is bridged instead.
    est = t.update([Candidate(x + 40, y + 10, 0.45)], s)
    assert est.bridged and math.dist((est.x, est.y), ball(s)) < 1.0
    # A weak look-alike right beside the flight is the ball.
    est = t.update([Candidate(x + 200, y, 0.45), Candidate(*ball(7 / 30), 0.2)], 7 / 30)
    assert not est.bridged and (est.x, est.y) == ball(7 / 30)


def test_irregular_frame_times_are_bridged_in_seconds() -> None:
    rng = np.random.default_rng(4)
    ts = np.cumsum(rng.uniform(0.015, 0.06, 14))
    t = BallTracker(TrackerParams(bridge_s=0.3), frame_px=FRAME)
    for s in ts[:9]:
        t.update(seen(float(s)), float(s))
    for s in ts[9:13]:
        est = t.update([], float(s))
        assert est.bridged and math.dist((est.x, est.y), ball(float(s))) < 1.0


def test_a_repeated_frame_changes_nothing() -> None:
    t = BallTracker(TrackerParams(), frame_px=FRAME)
    for i in range(4):
        t.update(seen(i / 30), i / 30)
    last = t.update(seen(4 / 30), 4 / 30)
    # The same timestamp again (a duplicated frame), or an older one: the previous estimate, no new point.
    assert t.update([Candidate(400, 40, 0.99)], 4 / 30) is last
    assert t.update([], 3.5 / 30) is last
    assert len(t.trail) == 5
    est = t.update([], 5 / 30)
    assert est.bridged and math.dist((est.x, est.y), ball(5 / 30)) < 1.0


def test_bridging_ends_when_the_prediction_leaves_the_frame_or_after_bridge_s() -> None:
    t = BallTracker(TrackerParams(bridge_s=1.0), frame_px=(512.0, 230.0))
    for i in range(8):  # falling towards the bottom edge (y 230) by ~0.56 s
        t.update(seen(i / 30), i / 30)
    flags = [t.update([], i / 30).visible for i in range(8, 24)]
    first_out = next(i for i in range(8, 24) if ball(i / 30)[1] > 229)
    assert all(flags[:first_out - 8]) and not any(flags[first_out - 8:])
    short = BallTracker(TrackerParams(bridge_s=0.1), frame_px=FRAME)
    for i in range(6):
        short.update(seen(i / 30), i / 30)
    assert short.update([], 7 / 30).visible and not short.update([], 9.5 / 30).visible


def test_a_strong_ball_elsewhere_takes_over_from_a_weak_distractor_the_track_follows() -> None:
    t = BallTracker(TrackerParams(), frame_px=FRAME)
    t.update([Candidate(300, 60, 0.55)], 0.0)
    t.update([Candidate(300, 60, 0.3)], 1 / 30)  # a static look-alike keeps the track
    est = t.update([Candidate(300, 60, 0.3), Candidate(*ball(0.1), 0.9)], 2 / 30)
    assert (est.x, est.y) == ball(0.1) and len(t.trail) == 1


def test_after_a_pause_longer_than_a_bridge_the_track_starts_afresh() -> None:
    t = BallTracker(TrackerParams(), frame_px=FRAME)
    for i in range(6):
        t.update(seen(i / 30), i / 30)
    # No frames for 5 s (a stalled camera): the old flight says nothing, a weak peak is not the ball...
    assert not t.update([Candidate(*ball(5.0 / 30), 0.3)], 5.0).visible
    # ...and a ball seen well starts a new track there.
    est = t.update([Candidate(200, 100, 0.65)], 5.05)
    assert (est.x, est.y, est.bridged) == (200, 100, False) and len(t.trail) == 1


def test_a_slow_ball_that_vanishes_is_carried_on_a_line_for_rest_bridge_s() -> None:
    def held(t: float) -> tuple[float, float]:  # in the hand of a server walking 24 px/s
        return 300.0 + 24.0 * t, 180.0 - 6.0 * t

    params = TrackerParams(rest_speed_px_s=60.0, rest_bridge_s=1.0)
    t, plain = BallTracker(params, frame_px=FRAME), BallTracker(TrackerParams(rest_bridge_s=0.0), frame_px=FRAME)
    for i in range(8):
        for tr in (t, plain):
            tr.update([Candidate(*held(i / 30), 0.8)], i / 30)
    for i in range(8, 8 + 27):  # hidden behind the server for 0.9 s
        est = t.update([], i / 30)
        assert est.bridged and math.dist((est.x, est.y), held(i / 30)) < 1.0
        assert plain.update([], i / 30).visible == (i / 30 - 7 / 30 <= plain.params.bridge_s)
    assert not t.update([], 8 / 30 + 1.0).visible
    # A fast ball is not a resting one: it is bridged for bridge_s only.
    fast = BallTracker(params, frame_px=FRAME)
    for i in range(6):
        fast.update(seen(i / 30), i / 30)
    assert not fast.update([], 5 / 30 + 0.25).visible
