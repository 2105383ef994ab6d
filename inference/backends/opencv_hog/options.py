"""``models[].options`` of the ``opencv`` backend (light: pydantic only, no cv2)."""

from __future__ import annotations

from pydantic import Field

from inference.backends.options import BackendOptions


class HogOptions(BackendOptions):
    """Options of :class:`inference.backends.opencv_hog.runner.HogRunner` (unknown keys are refused)."""

    hit_threshold: float = Field(-0.3, ge=-5, le=5, description="HOG SVM margin a window needs to be a person")
    win_stride: int = Field(8, ge=8, le=64, multiple_of=8,
                            description="HOG window step in pixels (a multiple of the 8-pixel cell)")
    scale: float = Field(1.03, gt=1, le=2, description="image pyramid step of the HOG search")
    max_side: int = Field(640, ge=128, le=4096,
                          description="frames are scaled so the long side is at most this for HOG (pixels)")
    faces: bool = Field(True, description="also report faces (Haar cascade, class 100)")
    ball: bool = Field(True, description="also report ball candidates (moving small blobs, class 32)")
    ball_max: int = Field(3, ge=1, le=50, description="most ball candidates per frame")
