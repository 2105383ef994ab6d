"""A synthetic padel rally seen from behind and above one baseline: pure drawing.

``render(t)`` returns the BGR image at time ``t`` seconds; nothing here does
I/O or encoding (that is :mod:`ingest.demo_clip`). World coordinates in metres:
x across the court (-5..5), y along it (0 = near wall, 20 = far wall, net at
10), z up. A pinhole camera 7.5 m behind the near wall and 6 m up looks at the
court, so players and the ball shrink with distance like in a real broadcast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

COURT_BLUE = (150, 85, 25)
SURROUND = (70, 95, 45)
LINE = (245, 245, 245)
GLASS = (200, 190, 150)
FRAME = (60, 60, 60)
BALL = (40, 235, 235)
SKIN = (120, 160, 210)
SHIRTS = ((40, 40, 200), (40, 40, 200), (230, 230, 230), (230, 230, 230))
SHORTS = ((30, 30, 30), (30, 30, 30), (120, 60, 20), (120, 60, 20))

#: Seconds of one ball flight from one player to the next.
FLIGHT_S = 1.25


@dataclass(frozen=True, slots=True)
class Camera:
    """A pinhole camera: pixel = project(world point in metres)."""

    width: int
    height: int
    position: tuple[float, float, float] = (0.0, -7.5, 6.0)
    target: tuple[float, float, float] = (0.0, 9.0, 0.0)

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        pos, tgt = np.array(self.position), np.array(self.target)
        forward = (tgt - pos) / np.linalg.norm(tgt - pos)
        right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        return forward, right, up, 1.05 * self.height

    def project(self, x: float, y: float, z: float = 0.0) -> tuple[float, float, float]:
        """(u, v) pixels and the depth in metres of a world point."""
        forward, right, up, focal = self.basis()
        d = np.array([x, y, z]) - np.array(self.position)
        depth = float(d @ forward)
        u = self.width / 2 + focal * float(d @ right) / depth
        v = self.height / 2 - focal * float(d @ up) / depth
        return u, v, depth

    def pixel(self, x: float, y: float, z: float = 0.0) -> tuple[int, int]:
        u, v, _ = self.project(x, y, z)
        return round(u), round(v)


def player_position(index: int, t: float) -> tuple[float, float]:
    """Court position (x, y metres) of player 0-3 at ``t`` seconds: two per side, drifting."""
    base = ((-2.5, 4.5), (2.5, 5.0), (-2.5, 15.5), (2.5, 15.0))[index]
    phase = index * 1.7
    return (base[0] + 1.6 * math.sin(0.9 * t + phase),
            base[1] + 1.3 * math.sin(0.6 * t + 2 * phase))


def ball_position(t: float) -> tuple[float, float, float]:
    """Ball (x, y, z metres) flying in arcs between the players, bouncing once per flight."""
    order = (0, 2, 1, 3)
    leg = int(t // FLIGHT_S)
    s = (t % FLIGHT_S) / FLIGHT_S
    a = player_position(order[leg % 4], leg * FLIGHT_S)
    b = player_position(order[(leg + 1) % 4], (leg + 1) * FLIGHT_S)
    x, y = a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s
    if s < 0.7:  # over the net, down to the bounce
        u = s / 0.7
        z = 1.0 + 2.5 * u * (1 - u) * 1.6 - 1.0 * u
    else:  # bounce, up to the racket
        u = (s - 0.7) / 0.3
        z = 1.6 * u * (1.4 - u)
    return x, y, max(0.03, z)


def _quad(img: np.ndarray, cam: Camera, pts: list[tuple[float, float, float]], color: tuple[int, int, int],
          alpha: float = 1.0) -> None:
    poly = np.array([cam.pixel(*p) for p in pts], np.int32)
    if alpha >= 1.0:
        cv2.fillPoly(img, [poly], color, cv2.LINE_AA)
        return
    layer = img.copy()
    cv2.fillPoly(layer, [poly], color, cv2.LINE_AA)
    cv2.addWeighted(layer, alpha, img, 1 - alpha, 0, dst=img)


def _line(img: np.ndarray, cam: Camera, a: tuple[float, ...], b: tuple[float, ...],
          color: tuple[int, int, int], width: int = 2) -> None:
    cv2.line(img, cam.pixel(*a), cam.pixel(*b), color, width, cv2.LINE_AA)


def _draw_court(img: np.ndarray, cam: Camera) -> None:
    _quad(img, cam, [(-7, -1.5, 0), (7, -1.5, 0), (7, 22, 0), (-7, 22, 0)], SURROUND)
    _quad(img, cam, [(-5, 0, 0), (5, 0, 0), (5, 20, 0), (-5, 20, 0)], COURT_BLUE)
    for y in (3.05, 16.95):
        _line(img, cam, (-5, y), (5, y), LINE)
    _line(img, cam, (0, 3.05), (0, 16.95), LINE)
    for x in (-5, 5):
        _line(img, cam, (x, 0), (x, 20), LINE)
    _line(img, cam, (-5, 20), (5, 20), LINE)


def _draw_walls(img: np.ndarray, cam: Camera) -> None:
    _quad(img, cam, [(-5, 20, 0), (5, 20, 0), (5, 20, 3), (-5, 20, 3)], GLASS, 0.35)
    for x in (-5, 5):
        for y0, y1 in ((0, 2), (18, 20)):
            _quad(img, cam, [(x, y0, 0), (x, y1, 0), (x, y1, 3), (x, y0, 3)], GLASS, 0.3)
        _quad(img, cam, [(x, 2, 0), (x, 18, 0), (x, 18, 2), (x, 2, 2)], FRAME, 0.15)
        for y in range(0, 21, 2):
            _line(img, cam, (x, y, 0), (x, y, 3 if y in (0, 2, 18, 20) else 2), FRAME, 2)
        _line(img, cam, (x, 0, 3), (x, 2, 3), FRAME)
        _line(img, cam, (x, 18, 3), (x, 20, 3), FRAME)
    for x in range(-5, 6, 2):
        _line(img, cam, (x, 20, 0), (x, 20, 4), FRAME, 2)
    _line(img, cam, (-5, 20, 3), (5, 20, 3), FRAME)


def _draw_net(img: np.ndarray, cam: Camera) -> None:
    _quad(img, cam, [(-5, 10, 0), (5, 10, 0), (5, 10, 0.92), (-5, 10, 0.88)], (30, 30, 30), 0.55)
    _line(img, cam, (-5, 10, 0.92), (5, 10, 0.88), LINE, 3)
    for x in (-5, 5):
        _line(img, cam, (x, 10, 0), (x, 10, 1.0), FRAME, 4)


def _draw_player(img: np.ndarray, cam: Camera, index: int, t: float) -> None:
    x, y = player_position(index, t)
    stride = 0.25 * math.sin(6.0 * t + index)
    scale = cam.height * 1.05 / cam.project(x, y, 1.0)[2]  # pixels per metre at this depth
    shadow = cam.pixel(x + 0.15, y, 0)
    cv2.ellipse(img, shadow, (max(2, int(0.35 * scale)), max(1, int(0.12 * scale))), 0, 0, 360,
                (50, 40, 20), -1, cv2.LINE_AA)
    thick = max(2, int(0.14 * scale))
    for side, swing in ((-0.12, stride), (0.12, -stride)):
        _line(img, cam, (x + side, y, 0.95), (x + side, y + swing, 0.0), SHORTS[index], thick)
    _line(img, cam, (x - 0.18, y, 1.0), (x + 0.18, y, 1.0), SHORTS[index], thick)
    torso = [(x - 0.22, y, 1.0), (x + 0.22, y, 1.0), (x + 0.24, y, 1.5), (x - 0.24, y, 1.5)]
    _quad(img, cam, torso, SHIRTS[index])
    arm = 0.5 * math.sin(3.0 * t + index)
    hand = (x + 0.45, y + arm * 0.3, 1.15 + 0.3 * arm)
    _line(img, cam, (x + 0.24, y, 1.45), hand, SKIN, max(2, thick // 2))
    _line(img, cam, (x - 0.24, y, 1.45), (x - 0.35, y, 1.1), SKIN, max(2, thick // 2))
    racket = cam.pixel(hand[0] + 0.1, hand[1], hand[2] + 0.25)
    cv2.ellipse(img, racket, (max(2, int(0.12 * scale)), max(3, int(0.16 * scale))), 0, 0, 360,
                (20, 20, 20), -1, cv2.LINE_AA)
    head = cam.pixel(x, y, 1.7)
    cv2.circle(img, head, max(3, int(0.13 * scale)), SKIN, -1, cv2.LINE_AA)


def _draw_ball(img: np.ndarray, cam: Camera, t: float) -> None:
    x, y, z = ball_position(t)
    _, _, depth = cam.project(x, y, z)
    radius = max(3, round(0.06 * cam.height * 1.05 / depth))
    cv2.circle(img, cam.pixel(x, y, 0), radius, (40, 40, 30), -1, cv2.LINE_AA)
    cv2.circle(img, cam.pixel(x, y, z), radius, BALL, -1, cv2.LINE_AA)


@lru_cache(maxsize=4)
def _background(width: int, height: int) -> np.ndarray:
    """The static part (floor, lines, walls), drawn once per size."""
    cam = Camera(width, height)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = (35, 30, 28)
    _draw_court(img, cam)
    _draw_walls(img, cam)
    img.flags.writeable = False
    return img


def render(t: float, width: int = 1280, height: int = 720) -> np.ndarray:
    """The scene at ``t`` seconds as a ``height x width x 3`` uint8 BGR image."""
    cam = Camera(width, height)
    img = _background(width, height).copy()
    ball_y = ball_position(t)[1]
    # Painter's order, far to near: far players, (ball if far), net, near players, (ball if near).
    far = sorted((i for i in range(4) if player_position(i, t)[1] > 10),
                 key=lambda i: -player_position(i, t)[1])
    near = sorted((i for i in range(4) if player_position(i, t)[1] <= 10),
                  key=lambda i: -player_position(i, t)[1])
    for i in far:
        _draw_player(img, cam, i, t)
    if ball_y > 10:
        _draw_ball(img, cam, t)
    _draw_net(img, cam)
    for i in near:
        _draw_player(img, cam, i, t)
    if ball_y <= 10:
        _draw_ball(img, cam, t)
    return img
