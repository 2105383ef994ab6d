"""INT8 static quantization of a YOLO ONNX export, calibrated on simulated court frames.

``options.precision: int8`` of the ``ultralytics`` backend. ONNX Runtime's static
quantization (QOperator format, weights int8 per channel, activations uint8) with
activation ranges calibrated on :data:`CALIBRATION_FRAMES` frames of four seeded
courts from :mod:`courtside.sim` (the simulator's rallies, players and ball,
letterboxed exactly as at inference). Its output differs from fp32: the
difference is measured by ``bench/onnx_vs_torch.py --precision int8`` and bounded
in tests/inference/test_infer_onnx_default.py. The file keeps the fp32 file's
metadata (names, stride, task, weights state).

Blocking: 10-30 s on 2 CPU cores, once per weights file (cached beside the fp32 export).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from inference.backends.onnxrt.letterbox import apply_letterbox, letterbox_params, to_blob
from inference.errors import ExportError

#: Bump when the calibration set or settings change (part of the cached file's name).
CALIBRATION_VERSION = 1
CALIBRATION_FRAMES = 16
_SEEDS = (1, 2, 3, 4)


def int8_path(fp32: Path) -> Path:
    """Where the INT8 copy of the fp32 export ``fp32`` lives (beside it)."""
    return fp32.with_name(f"{fp32.stem}-int8-cal{CALIBRATION_VERSION}.onnx")


def calibration_blobs(imgsz: int, stride: int = 32) -> list[np.ndarray]:
    """(1, 3, H, W) float32 inputs: 1280x720 simulated court frames letterboxed to ``imgsz``."""
    from courtside.sim.clip import Simulation

    per_seed = CALIBRATION_FRAMES // len(_SEEDS)
    blobs = []
    for seed in _SEEDS:
        sim = Simulation(seed, 1280, 720)
        for i, frame in enumerate(sim.frames(per_seed * 8)):
            if i % 8 == 0:  # a quarter second apart: the ball and players move
                lb = letterbox_params(720, 1280, imgsz, stride)
                blobs.append(to_blob([apply_letterbox(frame.image, lb)]))
    return blobs


def head_decode_nodes(model: Any) -> list[str]:
    """The Detect head's decoding (DFL, anchors, sigmoid, the final concat): kept in fp32.

    Its output holds boxes in pixels (0-640) and scores (0-1) in one tensor: one uint8
    scale for both would round every score to 0. The head's convolutions stay quantized.
    """
    heads = {n.name.split("/")[1] for n in model.graph.node if n.name.startswith("/model.") and
             n.op_type == "Concat" and n.output and n.output[0] == model.graph.output[0].name}
    return [n.name for n in model.graph.node
            if any(n.name.startswith(f"/{h}/") for h in heads) and n.op_type != "Conv"]


def quantize_int8(fp32: Path, imgsz: int) -> Path:
    """Write :func:`int8_path` of ``fp32`` (unless it exists); returns it. Raises :class:`ExportError`."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    target = int8_path(fp32)
    if target.is_file():
        return target
    model = onnx.load(str(fp32))
    input_name = model.graph.input[0].name
    meta = {p.key: p.value for p in model.metadata_props}
    blobs = iter(calibration_blobs(imgsz, int(meta.get("stride", "32"))))

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(blobs, None)
            return None if blob is None else {input_name: blob}

    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.onnx")
    try:
        with tempfile.TemporaryDirectory(prefix="courtside-int8-") as tmp:
            pre = Path(tmp) / "pre.onnx"
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)  # dynamic H, W
            quantize_static(str(pre), str(partial), Reader(), quant_format=QuantFormat.QOperator,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=head_decode_nodes(model))
        quantized = onnx.load(str(partial))
        kept = {p.key for p in quantized.metadata_props}
        for key, value in meta.items():
            if key not in kept:
                entry = quantized.metadata_props.add()
                entry.key, entry.value = key, value
        onnx.save(quantized, str(partial))
        os.replace(partial, target)
    except Exception as exc:  # onnx / onnxruntime.quantization raise many types; one boundary
        raise ExportError(f"INT8 quantization of {fp32.name} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target
