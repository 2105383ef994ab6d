"""``models[].options`` of the ``mmpose`` and ``mmpose-onnx`` backends (pydantic only: any environment).

``models[].weights`` of ``mmpose`` names a model whose config ships inside the mmpose
package (:data:`CONFIGS`); ``mmpose-onnx`` takes the ``.onnx`` file made by
``python -m inference.backends.mmpose.export``. Top-down RTMPose poses the person boxes of another model
(``options.detector``) for the same frame; one-stage RTMO needs no detector.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from courtside.config import ModelConfig
from inference.backends.options import BackendOptions
from inference.errors import ModelLoadError

#: ``models[].weights`` -> the config file under ``mmpose/.mim/configs`` (mmpose 1.3.2): COCO-17 all.
CONFIGS: dict[str, str] = {
    "rtmo-t": "body_2d_keypoint/rtmo/body7/rtmo-t_8xb32-600e_body7-416x416.py",
    "rtmo-s": "body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py",
    "rtmpose-t": "body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py",
    "rtmpose-s": "body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py",
    "rtmpose-m": "body_2d_keypoint/rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py",
}
ONE_STAGE = frozenset(n for n in CONFIGS if n.startswith("rtmo-"))
TOP_DOWN = frozenset(CONFIGS) - ONE_STAGE
#: RTMO's square network input (pixels): every frame is resized to it.
ONE_STAGE_INPUT = {"rtmo-t": 416, "rtmo-s": 640}
#: Subject-token shape of a model name (courtside.config's rule for models[].name).
_MODEL_NAME = r"^[A-Za-z0-9_-]{1,64}$"


class TopDownOptions(BackendOptions):
    """What both top-down paths share: where the person boxes come from and how long to wait."""

    detector: str | None = Field(None, pattern=_MODEL_NAME,
                                 description="RTMPose: the model whose annotations give the person boxes "
                                             "(annotations.<camera>.<detector>); required, refused for RTMO")
    detector_timeout_ms: float = Field(200.0, ge=0, le=10_000,
                                       description="RTMPose: how long a frame waits for its detector message "
                                                   "(milliseconds); then it is posed with no boxes")
    person_class: int = Field(0, ge=0, description="RTMPose: class id of a person in the detector's annotations")
    max_people: int = Field(20, ge=1, le=1000,
                            description="people posed per frame: the best-scoring detector boxes (RTMPose) or "
                                        "instances after NMS (RTMO)")
    warmup: bool = Field(True, description="one blank inference at load so the first frame is not slow")


class MMPoseOptions(TopDownOptions):
    """Options of the native ``mmpose`` backend (``.venvs/mmpose``).

    Weights: ``checkpoint_path`` (a local mmengine checkpoint, required to exist, loaded
    strictly into the architecture ``models[].weights`` names); without it the
    architecture with random weights, reported ``untrained`` in every annotation. There
    is no download: OpenMMLab's URLs are never fetched.
    """

    checkpoint_path: str | None = Field(None, description="local mmpose checkpoint (.pth) to load")
    weights_state: Literal["trained", "untrained"] | None = Field(
        None, description="override a checkpoint's recorded state (never the untrained fallback)")
    max_candidates: int | None = Field(
        None, ge=1, le=100_000,
        description="RTMO: candidates kept (best scores) before NMS; default 300 (the library keeps up to "
                    "100000, and an untrained RTMO scores hundreds of junk instances)")


class MMPoseOnnxOptions(TopDownOptions):
    """Options of ``mmpose-onnx``: RTMPose exported to ONNX, served by ONNX Runtime without mmcv."""

    providers: list[str] | None = Field(
        None, min_length=1, description="ONNX Runtime execution providers in priority order; default from device")
    weights_state: Literal["trained", "untrained"] | None = Field(
        None, description="overrides the file's courtside_weights metadata (absent = untrained)")


def check_topdown(config: ModelConfig, opts: TopDownOptions, where: str) -> None:
    """Refuse a top-down model without a detector, or with settings it would ignore."""
    if opts.detector is None:
        raise ModelLoadError(f"{where} is top-down: options.detector must name the model whose "
                             "annotations give the person boxes")
    if opts.detector == config.name:
        raise ModelLoadError(f"{where}: options.detector cannot be the model itself")
    for field in ("imgsz", "iou"):
        if field in config.model_fields_set:
            raise ModelLoadError(f"{where} crops each detector box to its own input: {field} does not apply")
    if config.task != "pose":
        raise ModelLoadError(f"{where} estimates poses: task must be pose, got {config.task}")
    if config.classes not in (None, [0]):
        raise ModelLoadError(f"{where} poses people only: classes does not apply")


def check_model_config(config: ModelConfig, opts: MMPoseOptions) -> None:
    """Refuse what the native backend would otherwise ignore (ModelLoadError naming the model and field)."""
    where = f"model {config.name}: mmpose {config.weights}"
    if config.weights not in CONFIGS:
        raise ModelLoadError(f"model {config.name}: mmpose weights must name a shipped config "
                             f"({', '.join(CONFIGS)}), got {config.weights!r}; a checkpoint goes in "
                             "options.checkpoint_path")
    if config.weights in TOP_DOWN:
        if "max_candidates" in opts.model_fields_set:
            raise ModelLoadError(f"{where} is top-down: options.max_candidates applies to RTMO only")
        check_topdown(config, opts, where)
        return
    if config.task != "pose":
        raise ModelLoadError(f"{where} estimates poses: task must be pose, got {config.task}")
    if config.classes not in (None, [0]):
        raise ModelLoadError(f"{where} finds people only: classes does not apply")
    stray = sorted(opts.model_fields_set & {"detector", "detector_timeout_ms", "person_class"})
    if stray:
        raise ModelLoadError(f"{where} is one-stage (no detector): options.{stray[0]} does not apply")
    size = ONE_STAGE_INPUT[config.weights]
    if "imgsz" in config.model_fields_set and config.imgsz != size:
        raise ModelLoadError(f"{where} runs at its input size {size}, got imgsz {config.imgsz}")
