"""``models[].options`` of the ``ultralytics`` backend (light: pydantic only, no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from inference.backends.options import BackendOptions


class UltralyticsOptions(BackendOptions):
    """Options of :class:`inference.backends.yolo.runner.UltralyticsRunner` (unknown keys are refused)."""

    tracker: str = Field("bytetrack.yaml", min_length=1,
                         description="task track: the tracker config, Ultralytics' name (bytetrack.yaml, "
                                     "botsort.yaml) or a path; ReID is not supported")
    weights_state: Literal["trained", "untrained"] | None = Field(
        None, description="overrides a loaded checkpoint's own metadata (never the untrained fallback)")
    max_det: int = Field(300, ge=1, le=10_000, description="most detections per image, before NMS keeps the best")
    warmup: bool = Field(True, description="one blank inference at load, so the first frame is not slow")
    runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="what runs the network. auto: ONNX Runtime on device cpu (exported once at "
        "start, cached by the weights' hash; measured faster than torch end to end), falling back to "
        "torch with one log line when the export or the session fails; torch on cuda. onnx: ONNX Runtime "
        "or refuse to load. torch: Ultralytics on PyTorch")
    onnx_cache_dir: str | None = Field(
        None, min_length=1, description="where exported ONNX files are kept, keyed by the weights' SHA-256 "
        "(default ~/.cache/courtside/onnx); used when the ONNX Runtime path is taken")
    precision: Literal["fp32", "int8"] = Field(
        "fp32", description="ONNX Runtime path only. int8: static quantization calibrated on simulated court "
        "frames (quantized once, cached beside the fp32 export; faster on the CPU, output differs from fp32: "
        "docs/benchmarks.md); needs runtime onnx, since a silent fall back to torch would not be int8")

    @model_validator(mode="after")
    def _onnx_options_need_onnx(self) -> UltralyticsOptions:
        if self.runtime == "torch" and self.onnx_cache_dir is not None:
            raise ValueError("onnx_cache_dir is used only by the ONNX Runtime path: drop it or set "
                             "runtime auto or onnx")
        if self.precision == "int8" and self.runtime != "onnx":
            raise ValueError("precision int8 is an ONNX Runtime setting: set runtime onnx with it")
        return self
