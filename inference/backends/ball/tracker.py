"""Following the ball from frame to frame: gating, short gaps bridged, a trail (pure; clock passed in).

Positions are pixels of the model's input; timestamps seconds. Per frame the
tracker gets the network's candidates (best first) and keeps the one that fits
the track: within ``max_speed_px_s`` of the last position for the time elapsed
(plus ``slack_px``), best score first. A candidate outside the gate starts a new
track only when its score is at least ``jump_score`` (a real ball teleported by a
cut or a new rally). With no fitting candidate the track coasts on its velocity
for up to ``bridge_s`` seconds (reported visible, score decayed), then is lost.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from inference.backends.ball.peaks import Candidate


@dataclass(frozen=True, slots=True)
class TrackerParams:
    score: float = 0.5
    max_speed_px_s: float = 3000.0
    slack_px: float = 12.0
    jump_score: float = 0.8
    bridge_s: float = 0.15
    trail: int = 12


@dataclass(frozen=True, slots=True)
class Estimate:
    """The ball this frame: position (input pixels), score 0..1, visible, and whether it was bridged."""

    x: float
    y: float
    score: float
    visible: bool
    bridged: bool = False


@dataclass(slots=True)
class BallTracker:
    params: TrackerParams = field(default_factory=TrackerParams)
    _last: tuple[float, float, float] | None = None  # x, y, ts of the last seen ball
    _velocity: tuple[float, float] = (0.0, 0.0)
    _score: float = 0.0
    trail: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=12))

    def update(self, candidates: list[Candidate], ts_s: float) -> Estimate:
        p = self.params
        strong = [c for c in candidates if c.score >= p.score]
        if self._last is None:
            if not strong:
                return Estimate(math.nan, math.nan, candidates[0].score if candidates else 0.0, False)
            return self._accept(strong[0], ts_s, reset=True)
        lx, ly, lts = self._last
        dt = max(1e-3, ts_s - lts)
        reach = p.max_speed_px_s * dt + p.slack_px
        fitting = [c for c in strong if math.hypot(c.x - lx, c.y - ly) <= reach]
        if fitting:
            px, py = lx + self._velocity[0] * dt, ly + self._velocity[1] * dt
            best = max(fitting, key=lambda c: c.score - 0.002 * math.hypot(c.x - px, c.y - py))
            return self._accept(best, ts_s, reset=False)
        if strong and strong[0].score >= p.jump_score:
            return self._accept(strong[0], ts_s, reset=True)
        if dt <= p.bridge_s and self._score > 0:
            x, y = lx + self._velocity[0] * dt, ly + self._velocity[1] * dt
            return Estimate(x, y, self._score * max(0.0, 1 - dt / p.bridge_s) * 0.9, True, bridged=True)
        self.reset()
        return Estimate(math.nan, math.nan, strong[0].score if strong else 0.0, False)

    def _accept(self, c: Candidate, ts_s: float, *, reset: bool) -> Estimate:
        if reset or self._last is None:
            self._velocity = (0.0, 0.0)
        else:
            lx, ly, lts = self._last
            dt = max(1e-3, ts_s - lts)
            vx, vy = (c.x - lx) / dt, (c.y - ly) / dt
            self._velocity = (0.5 * vx + 0.5 * self._velocity[0], 0.5 * vy + 0.5 * self._velocity[1])
        self._last, self._score = (c.x, c.y, ts_s), c.score
        if self.trail.maxlen != self.params.trail:
            self.trail = deque(self.trail, maxlen=self.params.trail)
        self.trail.append((c.x, c.y, ts_s))
        return Estimate(c.x, c.y, c.score, True)

    def reset(self) -> None:
        self._last, self._velocity, self._score = None, (0.0, 0.0), 0.0
        self.trail.clear()
