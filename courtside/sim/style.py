"""The random look of one simulated court: camera pose and lens, colours, light, ball, distractors.

One :class:`Style` is drawn per simulated clip from a ``numpy`` generator, so a
seed fixes everything. Colours are BGR uint8 triples; lengths are metres; the
camera is a :class:`~courtside.court.camera.Camera` at the render size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from courtside.court.camera import Camera, Intrinsics, Pose

Color = tuple[int, int, int]
COURTS: tuple[Color, ...] = ((150, 85, 25), (60, 120, 40), (50, 80, 170), (140, 110, 70), (120, 60, 40))
SHIRTS: tuple[Color, ...] = ((40, 40, 200), (230, 230, 230), (200, 120, 30), (30, 30, 30), (40, 160, 40),
                             (180, 60, 160), (40, 200, 230))
SHOES: tuple[Color, ...] = ((245, 245, 245), (30, 30, 30), (40, 220, 220), (60, 200, 240), (200, 80, 40))


@dataclass(frozen=True, slots=True)
class Logo:
    """A flat sign: on the floor (``z`` None) or on the far back glass, centre and size in metres."""

    x: float
    y: float
    z: float | None
    w: float
    h: float
    color: Color


@dataclass(frozen=True, slots=True)
class Style:
    camera: Camera
    court: Color
    surround: Color
    line: Color
    glass: Color
    frame: Color
    ball: Color
    ball_scale: float
    exposure_s: float
    gain: float
    shirts: tuple[Color, Color, Color, Color]
    shorts: tuple[Color, Color, Color, Color]
    shoes: tuple[Color, Color, Color, Color]
    skins: tuple[Color, Color, Color, Color]
    logos: tuple[Logo, ...]


def _jitter(rng: np.random.Generator, color: Color, amount: int = 20) -> Color:
    c = np.clip(np.asarray(color) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _pick(rng: np.random.Generator, options: tuple[Color, ...]) -> Color:
    return _jitter(rng, options[int(rng.integers(0, len(options)))])


def random_camera(rng: np.random.Generator, width: int, height: int) -> Camera:
    """A broadcast-like camera behind and above the near back wall, randomised in pose and lens."""
    position = (float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-7.0, -4.0)), float(rng.uniform(5.0, 8.0)))
    target = (float(rng.uniform(-0.6, 0.6)), float(rng.uniform(7.5, 10.0)), 0.0)
    intr = Intrinsics.from_hfov(width, height, float(rng.uniform(58.0, 72.0)), k1=float(rng.uniform(-0.12, 0.03)))
    return Camera(intr, Pose.look_at(position, target, float(rng.uniform(-2.0, 2.0))))


def random_style(rng: np.random.Generator, width: int, height: int, camera: Camera | None = None) -> Style:
    """Everything a court varies, drawn from ``rng``; ``camera`` fixes the view when given."""
    cam = camera if camera is not None else random_camera(rng, width, height)
    logos = []
    for _ in range(int(rng.integers(1, 5))):
        color = _pick(rng, ((40, 220, 230), (230, 230, 230), (30, 30, 200), (30, 30, 30), (200, 160, 40)))
        if rng.random() < 0.5:
            logos.append(Logo(float(rng.uniform(-4, 4)), 20.0, float(rng.uniform(0.4, 2.2)),
                              float(rng.uniform(0.8, 2.5)), float(rng.uniform(0.3, 0.8)), color))
        else:
            logos.append(Logo(float(rng.uniform(-3.5, 3.5)), float(rng.choice([0.8, 19.2])), None,
                              float(rng.uniform(0.8, 2.0)), float(rng.uniform(0.3, 0.6)), color))

    def four(options: tuple[Color, ...]) -> tuple[Color, Color, Color, Color]:
        a, b, c, d = (_pick(rng, options) for _ in range(4))
        return (a, b, c, d)

    team_shirts = (_pick(rng, SHIRTS), _pick(rng, SHIRTS))
    return Style(
        camera=cam,
        court=_pick(rng, COURTS),
        surround=_jitter(rng, (70, 95, 45), 30),
        line=_jitter(rng, (240, 240, 240), 15),
        glass=_jitter(rng, (200, 190, 150), 30),
        frame=_jitter(rng, (60, 60, 60), 25),
        ball=_jitter(rng, (40, 230, 225), 25),
        ball_scale=float(rng.uniform(0.9, 1.3)),
        exposure_s=float(rng.uniform(0.0, 1 / 60)),
        gain=float(rng.uniform(0.75, 1.15)),
        shirts=(team_shirts[0], team_shirts[0], team_shirts[1], team_shirts[1]),
        shorts=four(((30, 30, 30), (120, 60, 20), (230, 230, 230))),
        shoes=four(SHOES),
        skins=four(((120, 160, 210), (90, 130, 180), (60, 90, 130))),
        logos=tuple(logos),
    )
