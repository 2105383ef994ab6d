"""``models[].options`` of the ``yolonas`` backend (pydantic only: validated in any environment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inference.backends.options import BackendOptions

DETECT_ARCHITECTURES = ("yolo_nas_s", "yolo_nas_m", "yolo_nas_l")
POSE_ARCHITECTURES = ("yolo_nas_pose_n", "yolo_nas_pose_s", "yolo_nas_pose_m", "yolo_nas_pose_l")


class YoloNasOptions(BackendOptions):
    """Options of the ``yolonas`` backend; ``models[].weights`` names the architecture.

    Weights, in order: ``checkpoint_path`` (a local super-gradients checkpoint, required
    to exist); else, with ``pretrained``, the library's COCO download (needs the
    network); else, or when that download fails, the architecture with random
    weights, reported ``untrained`` in every annotation.
    """

    checkpoint_path: str | None = Field(None, description="local super-gradients checkpoint (.pth) to load")
    pretrained: bool = Field(True, description="without checkpoint_path: try the library's COCO weights download")
    num_classes: int | None = Field(None, ge=1, le=1000,
                                    description="classes (detect) of the checkpoint; default 80 (COCO)")
    class_names: list[str] | None = Field(None, description="label per class id; default COCO's 80 names")
    weights_state: Literal["trained", "untrained"] | None = Field(
        None, description="override a checkpoint's recorded state (never the untrained fallback)")
    nms_top_k: int | None = Field(None, ge=1, le=10000,
                                  description="candidates kept before NMS; default the library's (detect 1024, pose 300)")
    max_predictions: int | None = Field(None, ge=1, le=1000,
                                        description="objects kept after NMS, per image; default detect 300, pose 100")
    warmup: bool = Field(True, description="one blank inference at load so the first frame is not slow")
