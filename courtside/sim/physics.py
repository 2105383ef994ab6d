"""Ball flight in the court frame: gravity, quadratic drag, bounces on floor, glass, mesh and net.

Pure functions of a state and a step; units are metres, seconds, metres per second.
The enclosure geometry comes from :mod:`courtside.court.model`. A bounce reverses
the normal velocity times the surface's restitution and keeps a fraction of the
tangential one (friction); a ball that reaches a wall plane above the enclosure
has left the court (``out``); one that crosses the net plane below the tape hits
the net and drops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from courtside.court import model as court
from courtside.court.model import Surface

GRAVITY = 9.81
#: Drag constant k of a = -k |v| v (1/m): 0.5 rho Cd A / m with rho 1.2, Cd 0.55, r 3.28 cm, 57 g.
DRAG_K = 0.5 * 1.2 * 0.55 * math.pi * court.BALL_RADIUS_M ** 2 / court.BALL_MASS_KG
#: (normal restitution, tangential kept) per surface.
RESPONSE: dict[Surface, tuple[float, float]] = {
    Surface.FLOOR: (court.BALL_FLOOR_RESTITUTION, 0.85),
    Surface.GLASS: (0.72, 0.85),
    Surface.MESH: (0.30, 0.50),
    Surface.NET: (0.10, 0.20),
}
#: Below this vertical speed (m/s) a floor ball rolls instead of bouncing.
REST_VZ = 0.4


@dataclass(frozen=True, slots=True)
class Contact:
    """A bounce during a step: where (metres), on what, and the panel's name."""

    position: tuple[float, float, float]
    surface: Surface
    name: str


@dataclass(frozen=True, slots=True)
class StepResult:
    position: np.ndarray
    velocity: np.ndarray
    contacts: tuple[Contact, ...]
    left_court: bool


def _accel(v: np.ndarray) -> np.ndarray:
    return np.array([0.0, 0.0, -GRAVITY]) - DRAG_K * float(np.linalg.norm(v)) * v


def _bounce(v: np.ndarray, axis: int, surface: Surface) -> np.ndarray:
    normal_keep, tangent_keep = RESPONSE[surface]
    out = v * tangent_keep
    out[axis] = -v[axis] * normal_keep
    return out


def step(position: np.ndarray, velocity: np.ndarray, dt: float, *, in_play: bool = True,
         netted: bool = False) -> StepResult:
    """Advance the ball ``dt`` seconds (semi-implicit Euler; call with dt <= 1/240 s).

    ``in_play`` False lets a ball that left the court fly on through open walls;
    ``netted`` True keeps a ball that hit the net on its side of it.
    """
    r = court.BALL_RADIUS_M
    v = velocity + _accel(velocity) * dt
    p = position + v * dt
    contacts: list[Contact] = []
    left = False
    if p[2] < r:  # floor
        p[2] = r
        if v[2] < -REST_VZ:
            contacts.append(Contact((float(p[0]), float(p[1]), 0.0), Surface.FLOOR, "floor"))
            v = _bounce(v, 2, Surface.FLOOR)
        else:
            v[2] = 0.0
            v[:2] *= max(0.0, 1.0 - 0.8 * dt)  # rolling resistance
    crossed_net = (position[1] - court.NET_Y_M) * (p[1] - court.NET_Y_M) <= 0 and position[1] != p[1]
    if crossed_net and (netted or p[2] - r < court.net_height(float(p[0]))):
        if abs(p[0]) <= court.HALF_WIDTH_M:
            if not netted:
                contacts.append(Contact((float(p[0]), court.NET_Y_M, float(p[2])), Surface.NET, "net"))
            p[1] = court.NET_Y_M + (-r if position[1] < court.NET_Y_M else r)
            v = _bounce(v, 1, Surface.NET)
    for axis, lo, hi in ((1, r, court.LENGTH_M - r), (0, -court.HALF_WIDTH_M + r, court.HALF_WIDTH_M - r)):
        if lo <= p[axis] <= hi:
            continue
        plane_axis = "y" if axis == 1 else "x"
        along = float(p[0] if axis == 1 else p[1])
        wall = (0.0 if p[axis] < lo else court.LENGTH_M) if axis == 1 else (
            -court.HALF_WIDTH_M if p[axis] < lo else court.HALF_WIDTH_M)
        panel = court.wall_at(plane_axis, wall, along, float(p[2]))
        if panel is None or not in_play:
            if in_play:
                left = True
            continue
        p[axis] = lo if p[axis] < lo else hi
        contacts.append(Contact((float(p[0]), float(p[1]), float(p[2])), panel.surface, panel.name))
        v = _bounce(v, axis, panel.surface)
    return StepResult(p, v, tuple(contacts), left)


def launch_velocity(start: tuple[float, float, float], target: tuple[float, float], flight_s: float) -> np.ndarray:
    """Initial velocity that lands a drag-free ball at floor point ``target`` after ``flight_s`` s,
    with the horizontal speed raised to make up for drag (about right for padel speeds)."""
    sx, sy, sz = start
    tx, ty = target
    vx, vy = (tx - sx) / flight_s, (ty - sy) / flight_s
    vz = (court.BALL_RADIUS_M - sz + 0.5 * GRAVITY * flight_s ** 2) / flight_s
    horizontal = math.hypot(vx, vy)
    boost = 1.0 + 0.5 * DRAG_K * horizontal * flight_s
    return np.array([vx * boost, vy * boost, vz * (1.0 + 0.25 * DRAG_K * abs(vz) * flight_s)])
