"""``models[].options`` of the ``mediapipe`` backend (light: pydantic only, no mediapipe)."""

from __future__ import annotations

from pydantic import Field

from inference.backends.options import BackendOptions


class MediaPipeOptions(BackendOptions):
    """Options of :class:`inference.backends.mediapipe_pose.runner.MediaPipePoseRunner` (unknown keys are refused).

    MediaPipe Pose finds ONE person per image, the most prominent; no option changes that.
    """

    model_complexity: int = Field(1, ge=0, le=2, description="0 lite, 1 full (the only one bundled), 2 heavy")
    min_detection_confidence: float = Field(0.5, ge=0, le=1, description="person detector threshold")
    min_tracking_confidence: float = Field(0.5, ge=0, le=1,
                                           description="pose presence under which tracking is lost")
    smooth_landmarks: bool = Field(True, description="filter landmarks over time (less jitter, some lag)")
    min_visibility: float = Field(0.5, ge=0, le=1, description="landmark visibility needed to enter the box")
    max_cameras: int = Field(16, ge=1, le=1024, description="open graphs kept; least recently seen closed")
