"""Player court positions, speed, distance run and time per zone, from boxes in pixels.

Pure: the floor mapping (a :mod:`courtside.court.calibration` result) and the frame
times are passed in. Pixels in, metres and seconds out; no clock is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from courtside.court import model as court

#: Distance from the net (metres) below which a player is at the net; beyond SERVICE_FROM_NET_M, back.
NET_ZONE_M = 3.5


class FloorMap(Protocol):
    def image_to_floor(self, pixels: npt.ArrayLike) -> npt.NDArray[np.float64]: ...


class Zone(str, Enum):
    NET = "net"
    TRANSITION = "transition"
    BACK = "back"


def zone_of(y: float) -> Zone:
    """The zone of a floor point ``y`` metres along the court, by its distance to the net."""
    d = abs(y - court.NET_Y_M)
    if d < NET_ZONE_M:
        return Zone.NET
    return Zone.TRANSITION if d < court.SERVICE_FROM_NET_M else Zone.BACK


def box_feet(box: tuple[float, float, float, float]) -> tuple[float, float]:
    """The feet pixel of a box (x1, y1, x2, y2) pixels: the centre of its bottom edge."""
    x1, _, x2, y2 = box
    return ((x1 + x2) / 2, y2)


@dataclass(slots=True)
class PlayerStats:
    """One player's running totals: ``distance_m`` metres, ``zone_s`` seconds per zone, last position."""

    position: tuple[float, float] | None = None
    t: float | None = None
    speed_mps: float = 0.0
    distance_m: float = 0.0
    zone_s: dict[Zone, float] = field(default_factory=lambda: dict.fromkeys(Zone, 0.0))

    def update(self, t: float, xy: tuple[float, float], *, max_speed_mps: float = 10.0) -> None:
        """Add a position ``xy`` metres at ``t`` seconds (strictly later than the last, else ValueError).

        A step faster than ``max_speed_mps`` (a detection jump) moves the position without adding distance.
        """
        if not (math.isfinite(xy[0]) and math.isfinite(xy[1]) and math.isfinite(t)):
            raise ValueError(f"position {xy} at t={t} is not finite")
        if self.t is not None and self.position is not None:
            dt = t - self.t
            if dt <= 0:
                raise ValueError(f"t={t} s is not after the last update ({self.t} s)")
            step = math.hypot(xy[0] - self.position[0], xy[1] - self.position[1])
            self.speed_mps = step / dt
            if self.speed_mps <= max_speed_mps:
                self.distance_m += step
            self.zone_s[zone_of(self.position[1])] += dt
        self.position, self.t = xy, t


def positions(floor: FloorMap, boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float]]:
    """Floor positions (metres) of player boxes (x1, y1, x2, y2 pixels) by their bottom centre."""
    if not boxes:
        return []
    xy = floor.image_to_floor(np.array([box_feet(b) for b in boxes]))
    return [(float(p[0]), float(p[1])) for p in xy]
