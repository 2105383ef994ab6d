"""The ``mediapipe`` backend: pretrained BlazePose (MediaPipe Pose), offline, on the CPU.

MediaPipe 0.10.21 bundles its person detector and BlazePose "full" landmark model in
the wheel, so this backend estimates real poses with no download (``weights: trained``).
**MediaPipe Pose finds ONE person per image** (the most prominent): a frame with
several players gets at most one ``person``. Use it for one athlete in view (a drill, a
serve, a close-up camera), not for a whole court.

Each image's pose comes back as one object: label ``person``, class_id 0, COCO-17
``keypoints`` in pixels of the frame (score = the landmark's visibility), ``box`` = the
visible landmarks' bounding box (see :mod:`inference.backends.mediapipe_pose.landmarks`).
MediaPipe tracks the person from frame to frame, so each camera gets its own graph and
the runner is ``stateful`` (each camera is served by exactly one replica).

It needs its own environment (numpy<2, protobuf<5)::

    inference/backends/mediapipe_pose/setup_env.sh      # builds .venvs/mediapipe (~1 min, ~430 MB)
    .venvs/mediapipe/bin/python -m courtside --config courtside.yaml infer pose

with, in ``courtside.yaml``::

    models:
      - name: pose
        backend: mediapipe
        task: pose               # required: this backend only estimates poses
        threads: 1               # XNNPACK threads per camera graph (default: MediaPipe's, 1)
        conf: 0.25               # drop a person whose score is lower
        options:                 # all optional; unknown keys are refused
          model_complexity: 1    # 1 = full (bundled); 0 lite / 2 heavy only if their .tflite is installed
          min_detection_confidence: 0.5
          min_tracking_confidence: 0.5
          smooth_landmarks: true
          min_visibility: 0.5    # landmarks at least this visible make the box
          max_cameras: 16        # graphs kept open (~117 MB each); the least recently seen is closed

``weights``, ``imgsz``, ``iou``, ``classes`` and ``half`` do not apply and are ignored.
The runner declares no ``input_size``, so frames are decoded at full size: the landmark
model crops the person from the full image, and small people need those pixels.
Cost: ~28-31 ms CPU per frame per camera with one XNNPACK thread, whatever the frame size
(measured at 176x144, 640x272, 1280x544; 2-core machine). Two threads were slower on a
loaded 2-core machine; more may pay on an idle many-core one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import cv2
import mediapipe as mp
import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.backends.mediapipe_pose.graph import MODEL_NAMES, PoseSettings, check_models, open_pose
from inference.backends.mediapipe_pose.landmarks import person_from_landmarks
from inference.backends.mediapipe_pose.options import MediaPipeOptions
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)


class MediaPipePoseRunner(Runner):
    """One MediaPipe Pose graph per camera behind the Runner interface."""

    name = "mediapipe"
    weights = "trained"  # the bundled models are Google's pretrained BlazePose
    device = "cpu"
    stateful = True

    def __init__(self, config: ModelConfig) -> None:
        if config.task != "pose":
            raise ModelLoadError(f"model {config.name}: the mediapipe backend estimates poses "
                                 f"(task: pose), got task: {config.task}")
        if config.device != "cpu":
            raise ModelLoadError(f"model {config.name}: the mediapipe backend runs on the CPU only "
                                 f"(device: cpu), got {config.device!r}")
        opts = parse_options(MediaPipeOptions, config)
        self._model = config.name
        self._settings = PoseSettings(model_complexity=opts.model_complexity,
                                      min_detection_confidence=opts.min_detection_confidence,
                                      min_tracking_confidence=opts.min_tracking_confidence,
                                      smooth_landmarks=opts.smooth_landmarks, xnnpack_threads=config.threads)
        try:
            check_models(self._settings)
        except ModelLoadError as exc:
            raise ModelLoadError(f"model {config.name}: {exc}") from None
        self._min_visibility = opts.min_visibility
        self._max_cameras = opts.max_cameras
        self._conf = config.conf
        self._lock = threading.Lock()  # infer runs in the model thread; reset/close may come from another
        self._graphs: OrderedDict[str, Any] = OrderedDict()  # camera -> Pose, least recently seen first
        self._evicted = 0
        self._closed = False
        # One graph now, so that a broken install fails at load rather than on the first frame.
        self._spare: Any = open_pose(self._settings)
        self.model_name = MODEL_NAMES[opts.model_complexity]
        self.version = f"{self.model_name}@mediapipe-{mp.__version__}"
        log.info("model %s loaded: %s (one person per image, one graph per camera, at most %d)",
                 config.name, self.version, self._max_cameras)

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        """One pose per BGR image at most; ``cameras`` names each image's camera (tracking state)."""
        cams = cameras or ["default"] * len(images)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"model {self._model}: the mediapipe runner is closed")
            return [self._one(image, cam) for image, cam in zip(images, cams, strict=True)]

    def _one(self, image: np.ndarray, camera: str) -> list[DetectedObject]:
        graph = self._graph_for(camera)
        try:
            result = graph.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        except (RuntimeError, ValueError):
            self._drop(camera)  # a graph that failed once is not trusted with the next frame
            raise
        if result.pose_landmarks is None:
            return []
        landmarks = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], np.float32)
        person = person_from_landmarks(landmarks, image.shape[1], image.shape[0], self._min_visibility)
        return [person] if person is not None and person.score >= self._conf else []

    def _graph_for(self, camera: str) -> Any:
        graph = self._graphs.get(camera)
        if graph is not None:
            self._graphs.move_to_end(camera)
            return graph
        if len(self._graphs) >= self._max_cameras:
            old, old_graph = self._graphs.popitem(last=False)
            old_graph.close()
            self._evicted += 1
            if self._evicted == 1 or self._evicted % 100 == 0:
                log.warning("model %s: more than max_cameras=%d cameras; closed camera %s's pose graph "
                            "(%d closed so far: raise max_cameras or split cameras across replicas)",
                            self._model, self._max_cameras, old, self._evicted)
        graph, self._spare = self._spare, None
        if graph is None:
            graph = open_pose(self._settings)
        self._graphs[camera] = graph
        log.info("model %s: camera %s: pose graph opened (%d open)", self._model, camera, len(self._graphs))
        return graph

    def _drop(self, camera: str) -> None:
        graph = self._graphs.pop(camera, None)
        if graph is not None:
            graph.close()

    def reset(self, camera: str) -> None:
        """Forget ``camera``'s tracking state (its graph is closed; a new one opens on its next frame)."""
        with self._lock:
            self._drop(camera)

    def close(self) -> None:
        """Close every graph (their threads and ~117 MB each). Idempotent."""
        with self._lock:
            self._closed = True
            for camera in list(self._graphs):
                self._drop(camera)
            if self._spare is not None:
                self._spare.close()
                self._spare = None
