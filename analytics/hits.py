"""Hits from a 3D ball trajectory and the players' floor positions (the camera pose known).

Pure: positions and their frame times are passed in. A hit is a contact of a player's
racket with the ball between frames ``i`` and ``i + 1``: the ball's velocity over the step
before (``i - 1 .. i``) and the step after (``i + 1 .. i + 2``; the step holding the contact
is skipped, it is part one flight and part the other) differ by a turn of at least
:data:`TURN_DEG` or, gravity's share removed, by :data:`CHANGE_MPS` (a volley sped up along
its line), with a player within :data:`REACH_M` of the ball's floor point, the ball below
:data:`MAX_HEIGHT_M`, and no bounce found at those steps (a bounce turns the ball too).
The ball must leave at :data:`MIN_SPEED_MPS` or more (the step before may be slow: a serve
is hit near the top of its drop's bounce); a ball carried level in a hand, or a step faster
than any ball (a new ball, a detection jump), is no hit. One hit per :data:`MIN_GAP` frames.
Metres, seconds; no clock read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from courtside.sim.physics import GRAVITY

#: Smallest change of the ball's direction (degrees) read as a hit.
TURN_DEG = 30.0
#: Farthest a hitting player's floor position may be from the ball's floor point (metres).
REACH_M = 1.6
#: Highest the ball may be at a hit (metres: a smash with the arm up).
MAX_HEIGHT_M = 3.2
#: Change of the ball's velocity (m/s, gravity's share removed) read as a hit even without a turn
#: (a volley sped up along its line): drag alone changes it by well under 1 m/s over two frames.
CHANGE_MPS = 4.0
#: Frames after a hit before another can be found.
MIN_GAP = 4
#: Slowest step after a hit (m/s): a ball carried in a hand or rolling turns without being hit.
MIN_SPEED_MPS = 4.0
#: Vertical speed (m/s) under which the step before counts as level: a ball carried in a hand (the
#: analytics place a held ball at a fixed height), seldom one in flight (gravity changes the vertical
#: speed by 0.33 m/s per frame at 30 fps, so a step's mean is this near 0 at an apex 3 % of the time).
LEVEL_MPS = 0.01
#: Fastest plausible step (m/s): beyond it the ball did not fly there (a new ball, a detection jump).
MAX_SPEED_MPS = 60.0


@dataclass(frozen=True, slots=True)
class Hit:
    """A hit at frame ``index`` (``t`` seconds), ball at ``position`` metres, by ``player`` (its id),
    ``turn_deg`` the change of the ball's direction (NaN when only the break of a flight showed the hit)."""

    index: int
    t: float
    position: tuple[float, float, float]
    player: int
    turn_deg: float


def turn_deg(before: npt.ArrayLike, after: npt.ArrayLike) -> float:
    """The angle (degrees) between two steps; 0 when either has no length."""
    a, b = np.asarray(before, np.float64), np.asarray(after, np.float64)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    return math.degrees(math.acos(max(-1.0, min(1.0, float(a @ b) / (na * nb)))))


def nearest_player(ball: Sequence[float], players: Mapping[int, tuple[float, float]]) -> tuple[int, float] | None:
    """The id of the player nearest the ball's floor point, and its distance (metres); None without players."""
    best: tuple[int, float] | None = None
    for pid, (x, y) in players.items():
        d = math.hypot(x - ball[0], y - ball[1])
        if best is None or d < best[1]:
            best = (pid, d)
    return best


def detect(times: npt.ArrayLike, positions: npt.ArrayLike,
           players: Sequence[Mapping[int, tuple[float, float]]],
           bounce_indices: Sequence[int] = ()) -> list[Hit]:
    """Hits of one trajectory: ``times`` (N,) seconds increasing, ``positions`` (N, 3) metres (NaN where
    unseen), ``players`` per frame (id -> floor x, y metres), ``bounce_indices`` frames of bounces found.

    A hit is reported at the frame where the turn is largest among neighbouring candidates.
    """
    t = np.asarray(times, np.float64).ravel()
    p = np.asarray(positions, np.float64).reshape(-1, 3)
    if len(t) != len(p) or len(players) != len(p):
        raise ValueError(f"{len(t)} times, {len(p)} positions and {len(players)} player frames")
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise ValueError("times must increase strictly")
    # The bounce at frame b (its lowest point) happened in the step before or after it; a candidate
    # contact in step (i, i + 1) compares steps (i - 1, i) and (i + 1, i + 2), so it overlaps b's steps
    # for i in b - 2 .. b.
    near_bounce = {b + d for b in bounce_indices for d in (-2, -1, 0)}
    out: list[Hit] = []
    for i in range(1, len(p) - 2):
        w = p[i - 1:i + 3]
        if i in near_bounce or not np.isfinite(w).all():
            continue
        before = (w[1] - w[0]) / (t[i] - t[i - 1])
        after = (w[3] - w[2]) / (t[i + 2] - t[i + 1])
        middle = float(np.linalg.norm(w[2] - w[1])) / (t[i + 1] - t[i])
        speeds = (float(np.linalg.norm(before)), middle, float(np.linalg.norm(after)))
        if speeds[2] < MIN_SPEED_MPS or max(speeds) > MAX_SPEED_MPS or abs(before[2]) < LEVEL_MPS:
            continue
        # Gravity (and drag, a fraction of it) alone change the velocity by g over the two steps' gap.
        gap = (t[i + 2] + t[i + 1] - t[i] - t[i - 1]) / 2
        change = float(np.linalg.norm(after - before - np.array([0.0, 0.0, -GRAVITY * gap])))
        turn = turn_deg(before, after)
        b = w[2]
        if (turn < TURN_DEG and change < CHANGE_MPS) or b[2] > MAX_HEIGHT_M:
            continue
        near = nearest_player(b, players[i + 1])
        if near is None or near[1] > REACH_M:
            continue
        hit = Hit(i + 1, float(t[i + 1]), (float(b[0]), float(b[1]), float(b[2])), near[0], turn)
        if out and hit.index - out[-1].index < MIN_GAP:
            continue
        out.append(hit)
    return out
