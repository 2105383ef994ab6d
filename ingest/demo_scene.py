"""The demo court (``demo://padel``): a simulated padel rally on a fixed broadcast camera.

Pure drawing on top of :mod:`courtside.sim` (physics, players, rendering) and
:mod:`courtside.court` (the court and the camera); nothing here does I/O or
encoding (that is :mod:`ingest.demo_clip`). The rally is simulator seed
:data:`DEMO_SEED` (never used to train or evaluate the shipped ball model) on a
blue court, seen from 6 m behind and 7 m above the near back wall (:mod:`courtside.sim.demo_view`,
shared with analytics, which seeds the demo court's calibration from it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from courtside.sim.clip import SimFrame, Simulation
from courtside.sim.demo_view import HEIGHT, WIDTH, demo_camera
from courtside.sim.render import Visibility
from courtside.sim.style import Style

__all__ = ["BALL", "COURT_BLUE", "DEMO_SEED", "HEIGHT", "WIDTH", "SimFrame", "Visibility", "demo_camera", "frames",
           "render", "simulation"]

DEMO_SEED = 424_242
COURT_BLUE = (150, 85, 25)
BALL = (40, 235, 230)


def _demo_style(style: Style) -> Style:
    return replace(style, court=COURT_BLUE, ball=BALL, gain=1.0, exposure_s=1 / 250)


def simulation(width: int = WIDTH, height: int = HEIGHT, fps: float = 30.0) -> Simulation:
    """A fresh demo rally at t = 0."""
    return Simulation(DEMO_SEED, width, height, fps, camera=demo_camera(width, height), speed=1.0,
                      restyle=_demo_style)


def frames(count: int, width: int = WIDTH, height: int = HEIGHT, fps: float = 30.0) -> Iterator[SimFrame]:
    """The first ``count`` frames of the demo, with their ground truth."""
    return simulation(width, height, fps).frames(count)


def render(t: float, width: int = WIDTH, height: int = HEIGHT, fps: float = 30.0) -> SimFrame:
    """The demo frame nearest ``t`` seconds (simulated from the start: for tests and previews)."""
    sim = simulation(width, height, fps)
    for _ in range(round(t * fps)):
        sim.next_frame()
    return sim.next_frame()
