"""Detection boxes from a rendered label map, and their YOLO label lines (pure: numpy only).

A label map is what :func:`courtside.sim.render.render_frame` inks: an H x W uint8
image where each object's visible pixels carry its ink (player ``i`` as ``i + 1``,
the ball as :data:`~courtside.sim.render.BALL_INK`, 0 elsewhere). A box is the
tight pixel extent of one ink: ``x0, y0`` the first column and row it covers,
``x1, y1`` one past the last (so ``x1 - x0`` is its width in pixels). An object
with fewer visible pixels than its class's minimum (0 when fully hidden) gets no box.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PLAYER = 0
BALL = 1
#: Class names by class id, as written into ``data.yaml``.
NAMES: tuple[str, ...] = ("player", "ball")


@dataclass(frozen=True, slots=True)
class Box:
    """One object's visible extent in pixels (``x1``, ``y1`` exclusive) and how many pixels it shows."""

    cls: int
    x0: int
    y0: int
    x1: int
    y1: int
    pixels: int

    def contains(self, x: int, y: int) -> bool:
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1

    def yolo_line(self, width: int, height: int) -> str:
        """``cls cx cy w h`` with centre and size normalised by the image's ``width`` x ``height``."""
        cx, cy = (self.x0 + self.x1) / 2 / width, (self.y0 + self.y1) / 2 / height
        w, h = (self.x1 - self.x0) / width, (self.y1 - self.y0) / height
        return f"{self.cls} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def boxes_from_labels(labels: npt.NDArray[np.uint8], inks: Mapping[int, int],
                      min_pixels: Mapping[int, int]) -> list[Box]:
    """One :class:`Box` per ink of ``inks`` (ink -> class id) that shows at least ``min_pixels[cls]``
    pixels (at least 1: a fully hidden object never gets a box), in increasing ink order."""
    if labels.ndim != 2:
        raise ValueError(f"a label map is H x W, got shape {labels.shape}")
    out: list[Box] = []
    for ink in sorted(inks):
        cls = inks[ink]
        ys, xs = np.nonzero(labels == ink)
        if len(xs) < max(1, min_pixels.get(cls, 1)):
            continue
        out.append(Box(cls, int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1, len(xs)))
    return out


def yolo_text(boxes: Sequence[Box], width: int, height: int) -> str:
    """The content of one YOLO label file: a line per box (empty when there is none)."""
    return "".join(b.yolo_line(width, height) + "\n" for b in boxes)


def parse_yolo_text(text: str, width: int, height: int) -> list[tuple[int, float, float, float, float]]:
    """Lines of a YOLO label file back to ``(cls, x0, y0, x1, y1)`` pixels; raises ValueError naming the line."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise ValueError(f"line {n}: expected 'cls cx cy w h', got {line!r}")
        try:
            cls, (cx, cy, w, h) = int(parts[0]), (float(p) for p in parts[1:])
        except ValueError:
            raise ValueError(f"line {n}: not numbers: {line!r}") from None
        rows.append((cls, (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height))
    return rows
