"""Rallies segmented from the simulator's ground-truth ball, matched to its rally events by time IoU,
their shots counted from the simulator's hits (the serve included)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.bounces import Bounce, detect
from analytics.hits import Hit
from analytics.rallies import Rally, RallyTracker
from courtside.court.model import Surface
from courtside.sim.clip import Simulation


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


@pytest.mark.parametrize("seed", [1, 2])
def test_rallies_match_truth(seed: int) -> None:
    """Given the truth's hits, every rally's shot count is the truth's (seeds 1 and 2, 900 frames)."""
    sim = Simulation(seed, width=320, height=180)
    frames = list(sim.frames(900))
    times = np.array([f.truth.t for f in frames])
    pos = np.array([f.truth.position for f in frames])
    by_frame: dict[int, list[Bounce]] = {}
    for b in detect(times, pos):
        by_frame.setdefault(b.index, []).append(b)
    tracker, got = RallyTracker(), list[Rally]()
    truth: list[tuple[float, float]] = []
    truth_shots: list[int] = []
    start: float | None = None
    shots = 0
    for f in frames:
        hits = []
        for e in f.truth.events:
            if e.kind == "rally_start":
                start, shots = f.truth.t, 0
            elif e.kind == "rally_end" and start is not None:
                truth.append((start, f.truth.t))
                truth_shots.append(shots)
                start = None
            elif e.kind == "hit":
                shots += 1
                x, y, z = f.truth.position
                hits.append(Hit(f.truth.index, f.truth.t, (x, y, z), int(e.detail.split()[-1]), 0.0))
        r = tracker.update(f.truth.t, f.truth.position, by_frame.get(f.truth.index, []), hits=hits)
        if r is not None:
            got.append(r)
    assert len(truth) >= 3
    ious = [max((iou(t, (r.start, r.end)) for r in got), default=0.0) for t in truth]
    assert min(ious) >= 0.8, ious
    assert len(got) == len(truth)
    assert [r.shots for r in got] == truth_shots
    assert max(truth_shots) >= 3


def test_shots_are_the_hits_given_in_play() -> None:
    """Hits between rallies are not shots; each hit in play is one, and a hit ends a bounce sequence."""
    hit = Hit(0, 0.0, (0.0, 5.0, 1.0), 1, 40.0)
    tracker = RallyTracker()
    t = 0.0
    for _ in range(12):  # held still at 1 m: armed; a hit while idle counts nothing
        t += 1 / 30
        assert tracker.update(t, (0.0, 2.0, 1.0), hits=[hit]) is None
    t += 1 / 30
    tracker.update(t, (0.0, 2.0, 0.9))  # dropped: the rally starts
    assert tracker.active is not None and tracker.active[1] == 0
    t += 1 / 30
    tracker.update(t, (0.0, 2.2, 0.8), hits=[hit])
    t += 1 / 30
    tracker.update(t, (0.0, 2.4, 0.9), hits=[hit, hit])
    active = tracker.active
    assert active is not None and active[1] == 3


def test_out_of_order_refused() -> None:
    tracker = RallyTracker()
    tracker.update(1.0, (0.0, 5.0, 1.0))
    with pytest.raises(ValueError, match="not after"):
        tracker.update(1.0, (0.0, 5.0, 1.0))
    assert tracker.update(1.1, None) is None


def _serve(tracker: RallyTracker, hit: Hit) -> float:
    """Hold at 1 m, drop, serve (one shot): the rally is in play; the time reached (seconds)."""
    t = 0.0
    for _ in range(12):
        t += 1 / 30
        tracker.update(t, (0.0, 2.0, 1.0))
    for z in (0.9, 0.8):
        t += 1 / 30
        tracker.update(t, (0.0, 2.0, z), hits=[hit] if z == 0.8 else [])
    assert tracker.active is not None
    return t


def test_a_ball_back_over_the_net_is_no_double_bounce() -> None:
    """Two floor bounces on the far side with the ball over the net and back between them: someone hit
    it (a hit not seen), so the rally goes on; without the crossing it is a double bounce."""
    hit = Hit(0, 0.0, (0.0, 2.0, 0.8), 1, 40.0)

    def bounce(y: float) -> list[Bounce]:
        return [Bounce(0, 0.0, (0.0, y, 0.03), Surface.FLOOR)]

    for crossing, ended in ((True, None), (False, "double bounce")):
        tracker = RallyTracker()
        t = _serve(tracker, hit)
        path = [(15.0, bounce(15.0)), (13.0, []), (11.0, [])]
        path += [(8.0, []), (11.0, [])] if crossing else [(11.5, []), (12.0, [])]
        path += [(14.0, bounce(14.0))]
        got = None
        for y, bounces in path:
            t += 1 / 30
            got = tracker.update(t, (0.0, y, 0.5), bounces) or got
        assert (got.reason if got is not None else None) == ended


@pytest.mark.parametrize(("fall_y", "path", "ended"), [
    (11.0, (16.0, 14.0, 12.0, 11.0), "net"),  # into the net, falling back on the hitter's side
    (19.0, (18.5, 19.0), None),  # behind the hitter: a misplaced ball, not a shot into the net
    (8.0, (14.0, 11.0, 8.0), None),  # over the net: the opponents' floor, play goes on
])
def test_a_shot_that_falls_on_its_hitters_side_ends_at_the_net(
        fall_y: float, path: tuple[float, ...], ended: str | None) -> None:
    """The far player's shot (hit at y = 18 m) whose first floor bounce, the ball not over the net since,
    lies on the far side nearer the net than the hit ends the rally "net" (the net contact itself unseen)."""
    tracker = RallyTracker()
    t = _serve(tracker, Hit(0, 0.0, (0.0, 2.0, 0.8), 1, 40.0))
    for y in (8.0, 12.0, 15.0, 17.0, 18.0):
        t += 1 / 30
        far_bounce = [Bounce(0, t, (0.0, 15.0, 0.03), Surface.FLOOR)] if y == 15.0 else []
        assert tracker.update(t, (0.0, y, 0.5), far_bounce) is None
    t += 1 / 30
    assert tracker.update(t, (0.0, 18.0, 1.0), hits=[Hit(0, t, (0.0, 18.0, 1.0), 3, 60.0)]) is None
    got = None
    for y in path:
        t += 1 / 30
        fall = [Bounce(0, t, (0.0, fall_y, 0.03), Surface.FLOOR)] if y == fall_y else []
        got = tracker.update(t, (0.0, y, 0.5), fall) or got
    assert (got.reason if got is not None else None) == ended


@pytest.mark.parametrize(("vy", "ended"), [(7.0, None), (14.0, "out")])
def test_a_lob_out_of_the_picture_is_followed(vy: float, ended: str | None) -> None:
    """A lob last seen 5 m up, rising, leaves the top of the picture for 1.5 s (past LOST_S). At 7 m/s
    towards the far side it lands there (1.8 s, followed: not lost, and play goes on when it is seen
    again); at 14 m/s it strikes the far back wall before the floor (1.07 s after its first frame): out,
    ending then."""
    tracker = RallyTracker()
    t = _serve(tracker, Hit(0, 0.0, (0.0, 2.0, 0.8), 1, 40.0))
    seen = t + 1 / 30
    for _ in range(3):  # the lob's last frames in view, each with a settled flight's velocity
        t += 1 / 30
        dt = t - seen
        ball = (0.0, 6.9 + vy * dt, 5.1 + 6.0 * dt - 0.5 * 9.81 * dt * dt)
        assert tracker.update(t, ball, velocity=(0.0, vy, 6.0 - 9.81 * dt)) is None
    got = None
    while got is None and t < seen + 2 / 30 + 1.5:
        t += 1 / 30
        got = tracker.update(t, None)
    if ended is None:
        assert got is None and tracker.active is not None
        assert tracker.update(t + 1 / 30, (0.0, 17.0, 0.5)) is None
        return
    assert got is not None and got.reason == ended
    assert abs(got.end - (seen + 1.07)) < 0.05, got.end - seen  # 1.07 s from the lob's first frame


def test_a_ball_unseen_without_a_flight_is_lost_after_lost_s() -> None:
    """No settled flight (no velocity given): the ball is lost LOST_S after it was last seen."""
    tracker = RallyTracker()
    t = _serve(tracker, Hit(0, 0.0, (0.0, 2.0, 0.8), 1, 40.0))
    for y in (3.0, 3.5):
        t += 1 / 30
        tracker.update(t, (0.0, y, 1.5))
    last, got = t, None
    while got is None:
        t += 1 / 30
        got = tracker.update(t, None)
    assert got.reason == "ball lost" and 1.0 <= t - last < 1.0 + 1 / 30 + 1e-9
