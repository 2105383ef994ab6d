"""A seeded stream of simulated frames with their ground truth.

``Simulation(seed).frames(n)`` yields :class:`SimFrame` values: the BGR image and a
:class:`Truth` (time, 3D ball, its pixel, visibility class, events since the last
frame). The same seed and arguments always give the same frames, byte for byte.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from courtside.court.camera import Camera
from courtside.sim import render
from courtside.sim.rally import Event, Rally
from courtside.sim.render import Image, PlayerPose, Visibility
from courtside.sim.style import Style, random_style

#: Bump whenever the simulator's output changes for a given seed (recorded with trained weights).
SIM_VERSION = 2


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth of one frame. ``t`` seconds from the start; ``position`` metres (court frame);
    ``pixel`` the ball centre in image pixels (outside the image when out of frame, NaN behind the camera)."""

    index: int
    t: float
    position: tuple[float, float, float]
    pixel: tuple[float, float]
    radius_px: float
    visibility: Visibility
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class SimFrame:
    image: Image
    truth: Truth


class Simulation:
    """Rallies on one randomly styled court (``seed`` fixes the style and play), ``fps`` frames per second."""

    def __init__(self, seed: int, width: int = 640, height: int = 360, fps: float = 30.0, *,
                 camera: Camera | None = None, speed: float | None = None,
                 restyle: Callable[[Style], Style] | None = None) -> None:
        """``camera`` fixes the view; ``restyle`` adjusts the drawn style (the demo court fixes its colours)."""
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.style: Style = random_style(rng, width, height, camera)
        if restyle is not None:
            self.style = restyle(self.style)
        self.fps = fps
        ball_speed = float(rng.uniform(0.85, 1.3)) if speed is None else speed
        self.rally = Rally(np.random.default_rng([seed, 1]), speed=ball_speed)
        self.background = render.draw_background(self.style)
        self._scratch: Image = np.zeros((height, width), np.uint8)
        self._index = 0

    def _poses(self) -> list[PlayerPose]:
        return [PlayerPose(p.x, p.y, p.swing_left, p.travelled) for p in self.rally.players]

    def next_frame(self, labels: Image | None = None) -> SimFrame:
        """The next frame; the first one shows the world at t = 0. ``labels`` (H x W uint8) receives the
        label map of :func:`courtside.sim.render.render_frame` (player ``i`` as ``i + 1``, the ball as 255)."""
        events: tuple[Event, ...] = ()
        if self._index > 0:
            events = tuple(self.rally.advance(1.0 / self.fps))
        return self._draw(events, labels)

    def _draw(self, events: tuple[Event, ...], labels: Image | None = None) -> SimFrame:
        r = self.rally
        velocity = r.velocity if r.held_by is None else np.zeros(3)
        image, view = render.render_frame(self.background, self.style, r.ball, velocity, self._poses(), self._scratch,
                                          labels)
        truth = Truth(self._index, self._index / self.fps, (float(r.ball[0]), float(r.ball[1]), float(r.ball[2])),
                      (view.u, view.v), view.radius, view.visibility, events)
        self._index += 1
        return SimFrame(image, truth)

    def frames(self, count: int) -> Iterator[SimFrame]:
        for _ in range(count):
            yield self.next_frame()


def write_tracknet_csv(path: Path, truths: list[Truth], scale: float = 1.0) -> None:
    """Labels in the TrackNet layout (``Frame,Visibility,X,Y``; X, Y pixels times ``scale``, 0 when absent)."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Frame", "Visibility", "X", "Y"])
        for t in truths:
            present = t.visibility is not Visibility.OUT_OF_FRAME
            x, y = (t.pixel[0] * scale, t.pixel[1] * scale) if present else (0.0, 0.0)
            out.writerow([t.index, int(t.visibility), f"{x:.2f}", f"{y:.2f}"])
