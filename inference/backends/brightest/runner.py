"""The ``brightest`` runner: the brightest region of each frame, reported as one object."""

from __future__ import annotations

import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.backends.brightest.options import BrightestOptions
from inference.backends.options import parse_options
from inference.errors import ModelLoadError


def bright_region(gray: np.ndarray, level: float, min_contrast: float) -> DetectedObject | None:
    """The region around the brightest pixel of ``gray`` (HxW, 0..255), None when nothing stands out.

    "Bright" means at least ``level`` of the way from the median brightness to the
    peak; the region is the run of bright rows around the brightest pixel, then the
    run of bright columns within those rows. Box in pixel edges (x2, y2 exclusive);
    score = contrast / 255.
    """
    peak, floor = float(gray.max()), float(np.median(gray))
    if peak - floor < min_contrast:
        return None
    bright = gray >= floor + level * (peak - floor)
    y, x = np.unravel_index(int(np.argmax(gray)), gray.shape)
    y1, y2 = _run(np.count_nonzero(bright, axis=1) > 0, int(y))
    x1, x2 = _run(np.count_nonzero(bright[y1:y2], axis=0) > 0, int(x))
    return DetectedObject("bright region", 0, (peak - floor) / 255, (float(x1), float(y1), float(x2), float(y2)))


def _run(flags: np.ndarray, i: int) -> tuple[int, int]:
    """[start, end) of the run of True in ``flags`` that contains index ``i``."""
    gaps = np.flatnonzero(~flags)
    before, after = gaps[gaps < i], gaps[gaps > i]
    return (int(before[-1]) + 1 if len(before) else 0), (int(after[0]) if len(after) else len(flags))


class BrightestRunner(Runner):
    """Stateless, on the CPU, no learned weights (so "untrained": Courtside claims training only for those)."""

    name = "brightest"
    model_name = "brightest-region"
    version = "brightest-1"
    weights = "untrained"

    def __init__(self, config: ModelConfig) -> None:
        if config.task != "detect" or config.device != "cpu":
            raise ModelLoadError(f"model {config.name}: the brightest backend only detects, on the CPU "
                                 f"(task: detect, device: cpu), got task {config.task}, device {config.device}")
        self.options = parse_options(BrightestOptions, config)

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        regions = [bright_region(image.mean(axis=2), self.options.level, self.options.min_contrast)
                   for image in images]
        return [[] if region is None else [region] for region in regions]
