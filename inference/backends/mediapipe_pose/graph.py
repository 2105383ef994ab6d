"""Opening one MediaPipe Pose graph (one per camera) without ever reaching the network.

``mp.solutions.pose.Pose`` downloads the landmark model of ``model_complexity`` 0 (lite)
or 2 (heavy) from Google Cloud Storage when it is not in the package; 0.10.21 bundles
only 1 (full). :func:`landmark_model_path` is checked first, so a missing model is a
:class:`~inference.errors.ModelLoadError` saying what to do, never a download.

Measured on a 2-core machine (mediapipe 0.10.21, tracking mode): ~28 ms CPU per frame,
~200 ms and ~117 MB resident per graph (XNNPACK keeps its own packed weights per graph).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mediapipe as mp
from mediapipe.calculators.tensor import inference_calculator_pb2
from mediapipe.python.solutions import pose as mp_pose

from inference.errors import ModelLoadError

#: model_complexity -> landmark model file (mediapipe/modules/pose_landmark/).
LANDMARK_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite", 2: "pose_landmark_heavy.tflite"}
MODEL_NAMES = {0: "blazepose-lite", 1: "blazepose-full", 2: "blazepose-heavy"}
#: The two TFLite models of the graph: person detector, then landmarks.
_INFERENCE_NODES = 2


@dataclass(frozen=True, slots=True)
class PoseSettings:
    """What one graph is built with; confidences are probabilities in [0, 1]."""

    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    xnnpack_threads: int | None = None  # None: MediaPipe's default (1 thread on desktop Linux)


def landmark_model_path(model_complexity: int) -> Path:
    """The landmark model file for ``model_complexity`` inside the installed package."""
    if model_complexity not in LANDMARK_MODELS:
        raise ModelLoadError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
    return Path(mp.__file__).parent / "modules" / "pose_landmark" / LANDMARK_MODELS[model_complexity]


def check_models(settings: PoseSettings) -> None:
    """Raise :class:`ModelLoadError` unless every model file of ``settings`` is installed."""
    path = landmark_model_path(settings.model_complexity)
    if not path.is_file():
        raise ModelLoadError(
            f"mediapipe {mp.__version__} does not bundle {path.name} (model_complexity "
            f"{settings.model_complexity}) and this backend never downloads; use model_complexity 1 "
            f"(bundled), or place the file at {path} when building the image")


class _Pose(mp_pose.Pose):  # type: ignore[misc]
    """``Pose`` whose two TFLite nodes run XNNPACK with ``xnnpack_threads`` threads.

    The legacy API has no thread setting; ``SolutionBase`` hands the expanded graph
    config to ``_modify_calculator_options`` before building the graph, the one place
    to set ``InferenceCalculatorOptions.delegate.xnnpack.num_threads``.
    """

    def __init__(self, settings: PoseSettings) -> None:
        self._threads = settings.xnnpack_threads
        self.threads_set = 0
        super().__init__(static_image_mode=False, model_complexity=settings.model_complexity,
                         smooth_landmarks=settings.smooth_landmarks, enable_segmentation=False,
                         min_detection_confidence=settings.min_detection_confidence,
                         min_tracking_confidence=settings.min_tracking_confidence)

    def _modify_calculator_options(self, graph_config: Any, calculator_params: Any) -> None:
        if self._threads is not None:
            ext = inference_calculator_pb2.InferenceCalculatorOptions.ext
            for node in graph_config.node:
                if node.calculator.startswith("InferenceCalculator") and node.HasField("options"):
                    node.options.Extensions[ext].delegate.xnnpack.num_threads = self._threads
                    self.threads_set += 1
        super()._modify_calculator_options(graph_config, calculator_params)


def open_pose(settings: PoseSettings) -> mp_pose.Pose:
    """Build one tracking-mode graph (blocking, ~0.2 s). Close it with ``.close()``."""
    check_models(settings)
    try:
        pose = _Pose(settings)
    except (RuntimeError, ValueError) as exc:
        raise ModelLoadError(f"mediapipe pose graph failed to start: {exc}") from exc
    if settings.xnnpack_threads is not None and pose.threads_set != _INFERENCE_NODES:
        pose.close()
        raise ModelLoadError(f"mediapipe {mp.__version__}: expected {_INFERENCE_NODES} XNNPACK inference "
                             f"nodes to set threads on, found {pose.threads_set}")
    return pose
