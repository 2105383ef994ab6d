"""The network's output -> ball candidates in input pixels (pure numpy/cv2, shared by torch and ONNX paths)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A heatmap peak: the ball's centre (x, y input pixels) and its 0..1 score."""

    x: float
    y: float
    score: float


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))), np.float32)


def candidates(output: npt.NDArray[np.float32], stride: int, k: int = 3, min_score: float = 0.05) -> list[Candidate]:
    """Up to ``k`` local maxima (3 x 3) of one ``(3, h, w)`` output above ``min_score``, best first.

    The 3 x 3 maximum is a dilation (cv2; the border ignored, as a zero pad would be, since every
    score is positive), and the offsets' sigmoid is taken at the peaks only.
    """
    heat = _sigmoid(output[0])
    w = heat.shape[1]
    local = cv2.dilate(heat, _KERNEL)
    flat = heat.ravel()
    peaks = np.flatnonzero((heat >= local) & (heat >= min_score))
    if peaks.size == 0:
        return []
    order = peaks[np.argsort(-flat[peaks])][:k]
    ox, oy = _sigmoid(output[1].ravel()[order]), _sigmoid(output[2].ravel()[order])
    out = []
    for n, idx in enumerate(order):
        i, j = divmod(int(idx), w)
        out.append(Candidate((j + float(ox[n])) * stride, (i + float(oy[n])) * stride, float(flat[idx])))
    return out
