"""The ``opencv`` backend runner: people (HOG), faces (Haar), ball candidates (MOG2).

Class ids: 0 ``person (HOG)`` (COCO's person), 32 ``ball candidate`` (COCO's
sports ball id, but only a candidate), 100 ``face (Haar)`` (outside COCO).
Stateful (background model per camera), so each camera is owned by one replica.

Options: ``hit_threshold`` (-0.3), ``win_stride`` (8), ``scale`` (1.03),
``max_side`` (640), ``faces`` (true), ``ball`` (true), ``ball_max`` (3).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from contracts.annotations import DetectedObject
from courtside.config import ModelConfig
from inference.backends.opencv_hog.ball_candidates import BallCandidateFinder
from inference.backends.opencv_hog.people import HogParams, PeopleDetector
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)
OPTIONS = frozenset({"hit_threshold", "win_stride", "scale", "max_side", "faces", "ball", "ball_max"})
PERSON, BALL, FACE = 0, 32, 100


class HogRunner:
    """OpenCV's pretrained detectors behind the Runner interface."""

    name = "opencv"
    weights = "trained"  # HOG SVM and Haar cascade are pretrained by OpenCV; the ball finder learns nothing
    stateful = True

    def __init__(self, config: ModelConfig) -> None:
        unknown = set(config.options) - OPTIONS
        if unknown:
            raise ModelLoadError(f"model {config.name}: unknown opencv options {sorted(unknown)} "
                                 f"(known: {sorted(OPTIONS)})")
        if config.task != "detect":
            raise ModelLoadError(f"model {config.name}: the opencv backend only detects (task: detect)")
        if config.threads:
            cv2.setNumThreads(config.threads)
        o = config.options
        params = HogParams(hit_threshold=float(o.get("hit_threshold", -0.3)),
                           win_stride=int(o.get("win_stride", 8)), scale=float(o.get("scale", 1.03)),
                           max_side=int(o.get("max_side", 640)))
        self._people = PeopleDetector(params, faces=bool(o.get("faces", True)))
        self._balls = BallCandidateFinder(max_candidates=int(o.get("ball_max", 3))) if o.get("ball", True) else None
        self._conf = config.conf
        self.device = "cpu"
        self.version = f"opencv-{cv2.__version__}-hog-haar-mog2"
        log.info("model %s loaded: %s (pretrained HOG people + Haar faces; ball candidates %s)",
                 config.name, self.version, "on" if self._balls else "off")

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        cams = cameras or ["default"] * len(images)
        return [self._one(image, cam) for image, cam in zip(images, cams, strict=True)]

    def _one(self, image: np.ndarray, camera: str) -> list[DetectedObject]:
        out = [DetectedObject("person (HOG)", PERSON, score, box)
               for box, score in self._people.people(image) if score >= self._conf]
        out += [DetectedObject("face (Haar)", FACE, score, box)
                for box, score in self._people.faces(image) if score >= self._conf]
        if self._balls is not None:
            out += [DetectedObject("ball candidate", BALL, c.score, c.box) for c in self._balls.find(camera, image)]
        return out

    def reset(self, camera: str) -> None:
        if self._balls is not None:
            self._balls.reset(camera)
