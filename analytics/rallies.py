"""Rally segmentation from a 3D ball trajectory and its bounces (the camera pose known).

Pure: :class:`RallyTracker` is fed one frame at a time (``t`` seconds, ball position
metres or None when not seen, that frame's bounces) and returns a :class:`Rally`
when one ends. A rally starts when a held ball (still in height, 0.5-1.5 m up, for
:data:`HOLD_S`) is dropped for the serve; it ends on a net contact or a floor bounce on the hitter's own
side after a hit, before the ball crossed the net (the shot went into the net and fell back: "net"), a second
floor bounce on one side without a hit between, nor the ball over the net between (someone hit it, whether
the hit was seen or not) ("double bounce"), the ball leaving
the enclosure ("out") or the ball unseen for :data:`LOST_S` ("ball lost"). A ball that leaves the picture
in a known flight (a lob over the top of the frame) is followed while unseen (:func:`_unseen_flight`): not
lost while that flight is still in the air, and "out" when it flies over the walls or strikes a wall beyond
the net before the floor. Shots are the
hits passed in while a rally is in play (the serve included), found by :mod:`analytics.hits`.
The fastest ball is the largest speed of the ``velocity`` passed in (a settled flight's fitted one),
never a difference of positions, which jumps where a segment ends (106 m/s was seen); an unseen flight is
followed from that velocity too.
Metres, seconds; no clock read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.bounces import Bounce
from analytics.hits import Hit
from courtside.court import model as court
from courtside.court.model import Surface
from courtside.sim import physics

#: Seconds a held ball must stay still before its drop starts a rally. The 3D tracker already calls a ball
#: held only after 10 still pixels (analytics.ball3d.FREE_MIN, 0.33 s at 30 fps), and a server walks with
#: the ball until just before the drop, so more here missed rallies (0.3 s: 51 of 69 at IoU >= 0.8 on
#: simulator seeds 1-6 and 11-14; 0.15 s: 56 of 69).
HOLD_S = 0.15
LOST_S = 1.0
#: Seconds unseen before the last flight is followed (shorter gaps are a contact being placed), and the
#: longest it is followed for.
FOLLOW_AFTER_S = 0.2
FOLLOW_S = 2.5
#: The follow's time step (seconds): twice the simulator's (a velocity from two settled positions is good
#: to a few frames anyway; at most 300 steps, about 2.5 ms, once a ball has been unseen for FOLLOW_AFTER_S).
FOLLOW_STEP_S = 1 / 120
#: Vertical speed (m/s) below which the ball counts as held; above it downward, as dropped.
STILL_MPS = 0.2
DROP_MPS = 1.0


@dataclass(frozen=True, slots=True)
class Rally:
    """A finished rally: ``start``/``end`` seconds, ``shots`` (hits, the serve included),
    ``fastest_mps`` the fastest ball speed seen (m/s), ``reason`` why it ended."""

    start: float
    end: float
    shots: int
    fastest_mps: float
    reason: str

    @property
    def duration_s(self) -> float:
        return self.end - self.start


class RallyTracker:
    """Feed :meth:`update` frames in time order; it returns the rally each frame ends, if any."""

    def __init__(self) -> None:
        self._last: tuple[float, tuple[float, float, float]] | None = None
        self._still_since: float | None = None
        self._armed = False
        self._start: float | None = None
        self._shots = 0
        self._fastest = 0.0
        self._floor_side: int | None = None
        self._hit: tuple[float, float] | None = None  # the last hit not yet over the net: seconds, its y metres
        self._seen_t: float | None = None
        self._flight: tuple[float, tuple[float, float, float], tuple[float, float, float]] | None = None
        self._followed: _Unseen | None = None

    @property
    def active(self) -> tuple[float, int] | None:
        """The rally in play: (start seconds, shots so far), or None between rallies."""
        return None if self._start is None else (self._start, self._shots)

    def update(self, t: float, ball: tuple[float, float, float] | None,
               bounces: Sequence[Bounce] = (), *, velocity: tuple[float, float, float] | None = None,
               hits: Sequence[Hit] = ()) -> Rally | None:
        """One frame at ``t`` seconds (strictly after the last); ``ball`` metres or None; ``velocity`` the
        ball's m/s when a settled flight's fit knows it well (None otherwise); ``hits`` found since the
        last frame (each a shot while a rally is in play, and the end of a bounce sequence)."""
        if not math.isfinite(t) or (self._last is not None and t <= self._last[0]):
            raise ValueError(f"t={t} s is not after the last frame")
        if ball is None or not all(math.isfinite(c) for c in ball):
            return self._unseen(t)
        prev, self._last, self._seen_t = self._last, (t, ball), t
        self._flight, self._followed = None, None
        if prev is None:
            return None
        dt = t - prev[0]
        v = [(b - a) / dt for a, b in zip(prev[1], ball, strict=True)]
        if velocity is not None and all(math.isfinite(c) for c in velocity):
            self._flight = (t, ball, velocity)
        if self._start is None:
            self._idle(t, ball, v)
            return None
        if self._flight is not None:
            self._fastest = max(self._fastest, math.hypot(*self._flight[2]))
        crossed = court.side_of(prev[1][1]) != court.side_of(ball[1])
        if hits or crossed:
            # A hit, or the ball over the net since the last frame (someone hit it, seen or not), ends
            # the bounce sequence.
            self._shots += len(hits)
            self._floor_side = None
            self._hit = None if crossed else self._hit
        if hits:
            self._hit = (hits[-1].t, hits[-1].position[1])
        for b in bounces:
            if b.surface is Surface.NET:
                return self._finish(t, "net")
            if b.surface is Surface.FLOOR:
                side = court.side_of(b.position[1])
                if self._into_net(b):
                    return self._finish(t, "net")
                if self._floor_side == side and self._shots > 0:
                    return self._finish(t, "double bounce")
                self._floor_side = side
        x, y, _ = ball
        if abs(x) > court.HALF_WIDTH_M + 0.5 or y < -0.5 or y > court.LENGTH_M + 0.5:
            return self._finish(t, "out")
        return None

    def _unseen(self, t: float) -> Rally | None:
        """A frame without the ball: lost after :data:`LOST_S`, unless the flight it was last seen in
        is still in the air; over the walls or into a wall beyond the net first: out, when it got there."""
        if self._start is None or self._seen_t is None:
            return None
        gone = t - self._seen_t
        if self._flight is not None and gone >= FOLLOW_AFTER_S:
            if self._followed is None:
                self._followed = _unseen_flight(*self._flight[1:])
            end = self._flight[0] + self._followed.after_s
            if self._followed.out and t >= end:
                return self._finish(max(end, self._start), "out")
            if t < end:
                return None
        return self._finish(t, "ball lost") if gone >= LOST_S else None

    def _into_net(self, b: Bounce) -> bool:
        """Whether floor bounce ``b`` is the last hit's ball falling back from the net: after the hit, on
        the hitter's side, nearer the net than the hit (a ball bouncing behind its hitter was placed
        wrong, not hit into the net)."""
        if self._hit is None or b.t <= self._hit[0]:
            return False
        hit_y, y = self._hit[1], b.position[1]
        return court.side_of(y) == court.side_of(hit_y) and abs(y - court.NET_Y_M) < abs(hit_y - court.NET_Y_M)

    def _idle(self, t: float, ball: tuple[float, float, float], v: list[float]) -> None:
        """Between rallies: arm on a held ball, start on its drop."""
        if abs(v[2]) < STILL_MPS and 0.5 <= ball[2] <= 1.5:
            self._still_since = t if self._still_since is None else self._still_since
            if t - self._still_since >= HOLD_S:
                self._armed = True
            return
        self._still_since = None
        if self._armed and v[2] < -DROP_MPS:
            self._start, self._armed = t, False
            self._shots, self._fastest, self._floor_side, self._hit = 0, 0.0, None, None

    def _finish(self, t: float, reason: str) -> Rally:
        assert self._start is not None
        rally = Rally(self._start, t, self._shots, self._fastest, reason)
        self._start, self._armed, self._still_since = None, False, None
        return rally


@dataclass(frozen=True, slots=True)
class _Unseen:
    """Where an unseen flight went: ``after_s`` seconds after it was last seen it first touched something
    (or left the court); ``out`` when that was over the walls or a wall beyond the net (no floor first)."""

    after_s: float
    out: bool


def _unseen_flight(position: tuple[float, float, float], velocity: tuple[float, float, float]) -> _Unseen:
    """Follow a flight from its last seen state (metres, m/s) under gravity and drag to its first contact,
    at most :data:`FOLLOW_S` seconds."""
    p, v = np.array(position, dtype=float), np.array(velocity, dtype=float)
    side, elapsed = court.side_of(position[1]), 0.0
    while elapsed < FOLLOW_S:
        step = physics.step(p, v, FOLLOW_STEP_S)
        elapsed += FOLLOW_STEP_S
        if step.left_court:
            return _Unseen(elapsed, True)
        if step.contacts:
            c = step.contacts[0]
            return _Unseen(elapsed, c.surface in (Surface.GLASS, Surface.MESH) and court.side_of(c.position[1]) != side)
        p, v = step.position, step.velocity
    return _Unseen(elapsed, False)
