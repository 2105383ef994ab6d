"""Bounce detection from a ball trajectory in court metres (3D, the camera pose known).

Pure: positions and their frame times are passed in. A bounce is a reversal of the
ball's velocity against a surface of :mod:`courtside.court.model`: the floor (z falls
then rises near z = 0), the back walls (y), the side walls (x), the net (travel along the court stopped or reversed at it,
below its top). Its surface is the
wall panel at the contact point (glass or mesh). Metres and seconds; no clock read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from courtside.court import model as court
from courtside.court.model import Surface

#: How near a surface (metres) the ball must be at a reversal for it to count as a contact.
CONTACT_M = 0.35


@dataclass(frozen=True, slots=True)
class Bounce:
    """A detected contact at frame ``index`` (``t`` seconds), ``position`` metres, on ``surface``."""

    index: int
    t: float
    position: tuple[float, float, float]
    surface: Surface


def detect(times: npt.ArrayLike, positions: npt.ArrayLike) -> list[Bounce]:
    """Bounces of one trajectory: ``times`` (N,) seconds increasing, ``positions`` (N, 3) metres.

    NaN positions (ball not seen) break the trajectory; no reversal is read across them.
    """
    t = np.asarray(times, np.float64).ravel()
    p = np.asarray(positions, np.float64).reshape(-1, 3)
    if len(t) != len(p):
        raise ValueError(f"{len(t)} times for {len(p)} positions")
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise ValueError("times must increase strictly")
    out: list[Bounce] = []
    for i in range(1, len(p) - 1):
        a, b, c = p[i - 1], p[i], p[i + 1]
        if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(c).all()):
            continue
        before, after = b - a, c - b
        pos = (float(b[0]), float(b[1]), float(b[2]))
        if before[2] < 0 <= after[2] and b[2] < CONTACT_M:
            out.append(Bounce(i, float(t[i]), pos, Surface.FLOOR))
            continue
        if abs(b[1] - court.NET_Y_M) < CONTACT_M and b[2] <= court.net_height(float(b[0])) + 0.1 \
                and abs(before[1]) > 0 and after[1] * before[1] <= 0.25 * before[1] ** 2 \
                and (not out or out[-1].surface is not Surface.NET or i - out[-1].index > 5):
            out.append(Bounce(i, float(t[i]), pos, Surface.NET))
            continue
        for axis, wall, lim in ((1, "y", court.LENGTH_M), (0, "x", court.HALF_WIDTH_M)):
            offset = None
            if before[axis] > 0 >= after[axis] and b[axis] > lim - CONTACT_M:
                offset = lim
            elif before[axis] < 0 <= after[axis] and b[axis] < (0.0 if axis == 1 else -lim) + CONTACT_M:
                offset = 0.0 if axis == 1 else -lim
            if offset is None:
                continue
            along = b[0] if axis == 1 else b[1]
            panel = court.wall_at(wall, offset, float(along), float(max(0.0, b[2])))
            if panel is not None:
                out.append(Bounce(i, float(t[i]), pos, panel.surface))
                break
    return out
