"""The ``opencv`` backend runner: people (HOG), faces (Haar), ball candidates (MOG2).

Class ids: 0 ``person (HOG)`` (COCO's person), 32 ``ball candidate`` (COCO's
sports ball id, but only a candidate), 100 ``face (Haar)`` (outside COCO).
Stateful (background model per camera), so each camera is owned by one replica.

Options: :class:`inference.backends.opencv_hog.options.HogOptions`.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.backends.opencv_hog.ball_candidates import BallCandidateFinder
from inference.backends.opencv_hog.options import HogOptions
from inference.backends.opencv_hog.people import HogParams, PeopleDetector
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)
PERSON, BALL, FACE = 0, 32, 100


class HogRunner(Runner):
    """OpenCV's pretrained detectors behind the Runner interface."""

    name = "opencv"
    model_name = "hog-people+haar-faces+mog2-ball-candidates"
    weights = "trained"  # HOG SVM and Haar cascade are pretrained by OpenCV; the ball finder learns nothing
    trained_on = "INRIA Person (the HOG people SVM; the Haar face cascade's data is unpublished)"
    stateful = True

    def __init__(self, config: ModelConfig) -> None:
        o = parse_options(HogOptions, config)
        if config.task != "detect":
            raise ModelLoadError(f"model {config.name}: the opencv backend only detects (task: detect)")
        if config.threads:
            cv2.setNumThreads(config.threads)
        params = HogParams(hit_threshold=o.hit_threshold, win_stride=o.win_stride, scale=o.scale,
                           max_side=o.max_side)
        self._people = PeopleDetector(params, faces=o.faces)
        self._balls = BallCandidateFinder(max_candidates=o.ball_max) if o.ball else None
        self._conf = config.conf
        parts = ["hog", *(["haar"] if o.faces else []), *(["mog2"] if o.ball else [])]
        self.model_name = "+".join(("hog-people", *(["haar-faces"] if o.faces else []),
                                    *(["mog2-ball-candidates"] if o.ball else [])))
        self.version = f"opencv-{cv2.__version__}-{'-'.join(parts)}"
        log.info("model %s loaded: %s (pretrained HOG people%s; ball candidates %s)", config.name, self.version,
                 " + Haar faces" if o.faces else ", no faces", "on" if self._balls else "off")

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
        """Forget ``camera``'s background model (ball candidates need a few frames to reappear)."""
        if self._balls is not None:
            self._balls.reset(camera)
