"""``models[].options`` of the ``onnx`` backend (light: pydantic only, no onnxruntime)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inference.backends.options import BackendOptions


class OnnxOptions(BackendOptions):
    """Options of :class:`inference.backends.onnxrt.runner.OnnxRunner` (unknown keys are refused)."""

    providers: list[str] | None = Field(
        None, min_length=1, description="ONNX Runtime execution providers in priority order (e.g. "
        "TensorrtExecutionProvider, CUDAExecutionProvider, CPUExecutionProvider); default from device")
    weights_state: Literal["trained", "untrained"] | None = Field(
        None, description="overrides the file's courtside_weights metadata (absent = untrained)")
    max_det: int = Field(300, ge=1, le=10_000, description="most detections per image after NMS")
    warmup: bool = Field(True, description="one blank inference at load, so the first frame is not slow")
