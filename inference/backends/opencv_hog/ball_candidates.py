"""Ball candidates: small, compact, moving blobs found by background subtraction.

Not a ball detector: anything small that moves (a hand, a racket tip, a shoe)
can be a candidate, hence the label ``ball candidate``. One background model
(MOG2) per camera, so state never mixes cameras; it needs a few frames to learn
the background before candidates appear.

:func:`blob_candidates` is pure (component statistics in, candidates out).
Units: pixels of the frame given.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class Candidate:
    """A blob's bounding box (x1, y1, x2, y2 pixels) and a 0..1 compactness score."""

    box: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True, slots=True)
class BlobLimits:
    """Size limits as fractions of the frame's long side (a padel ball is ~0.5-2 %)."""

    min_side: float = 0.004
    max_side: float = 0.03
    max_aspect: float = 2.0
    min_fill: float = 0.45


def blob_candidates(stats: np.ndarray, frame_w: int, frame_h: int, limits: BlobLimits = BlobLimits(),
                    max_candidates: int = 3) -> list[Candidate]:
    """Candidates from ``cv2.connectedComponentsWithStats`` rows (x, y, w, h, area),
    row 0 being the background. Score = fill ratio x squareness, best first."""
    long_side = max(frame_w, frame_h)
    lo, hi = limits.min_side * long_side, limits.max_side * long_side
    out: list[Candidate] = []
    for x, y, w, h, area in stats[1:]:
        if not (lo <= max(w, h) <= hi) or min(w, h) < 1:
            continue
        aspect = max(w, h) / min(w, h)
        fill = area / float(w * h)
        if aspect > limits.max_aspect or fill < limits.min_fill:
            continue
        score = min(1.0, fill / (np.pi / 4)) * (1.0 / aspect)
        out.append(Candidate((float(x), float(y), float(x + w), float(y + h)), round(float(score), 4)))
    out.sort(key=lambda c: -c.score)
    return out[:max_candidates]


class BallCandidateFinder:
    """Per-camera background models; :meth:`find` is called in frame order per camera."""

    def __init__(self, limits: BlobLimits = BlobLimits(), max_candidates: int = 3, history: int = 120) -> None:
        self._limits = limits
        self._max = max_candidates
        self._history = history
        self._models: dict[str, cv2.BackgroundSubtractor] = {}
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def find(self, camera: str, image: np.ndarray) -> list[Candidate]:
        model = self._models.get(camera)
        if model is None:
            model = self._models[camera] = cv2.createBackgroundSubtractorMOG2(
                history=self._history, varThreshold=25, detectShadows=True)
        mask = model.apply(image)
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)  # drop shadows (127)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        return blob_candidates(stats, image.shape[1], image.shape[0], self._limits, self._max)

    def reset(self, camera: str) -> None:
        self._models.pop(camera, None)
