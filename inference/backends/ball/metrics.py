"""The TrackNet evaluation protocol: per-frame outcomes, then precision, recall, F1, accuracy.

A frame's label is present when its visibility class is 1-3 (0: no ball in the
frame). A prediction is a position or nothing:

- present label, prediction within ``tolerance`` pixels (Euclidean, at the model's
  input scale): true positive;
- present label, prediction farther: false positive (TrackNetV2's FP1);
- absent label, a prediction: false positive (FP2);
- absent label, none: true negative; present label, none: false negative.

Precision TP/(TP+FP), recall TP/(TP+FN), accuracy (TP+TN)/frames; each per
visibility class as well as overall.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.tn += other.tn
        self.fn += other.fn

    @property
    def frames(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.frames if self.frames else 0.0

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "frames": self.frames, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4), "accuracy": round(self.accuracy, 4)}


def outcome(visibility: int, label_xy: tuple[float, float], predicted: tuple[float, float] | None,
            tolerance: float) -> Counts:
    """One frame's outcome as counts (exactly one of them is 1)."""
    present = visibility > 0
    if predicted is None:
        return Counts(fn=1) if present else Counts(tn=1)
    if not present:
        return Counts(fp=1)
    dist = math.hypot(predicted[0] - label_xy[0], predicted[1] - label_xy[1])
    return Counts(tp=1) if dist <= tolerance else Counts(fp=1)


@dataclass(slots=True)
class Report:
    """Counts overall and per visibility class (0-3), at ``tolerance`` input pixels."""

    tolerance: float
    total: Counts = field(default_factory=Counts)
    by_class: dict[int, Counts] = field(default_factory=dict)

    def add(self, visibility: int, label_xy: tuple[float, float], predicted: tuple[float, float] | None) -> None:
        c = outcome(visibility, label_xy, predicted, self.tolerance)
        self.total.add(c)
        self.by_class.setdefault(visibility, Counts()).add(c)

    def summary(self) -> dict[str, Any]:
        return {"tolerance_px": self.tolerance, **self.total.summary(),
                "by_visibility": {str(k): v.summary() for k, v in sorted(self.by_class.items())}}
