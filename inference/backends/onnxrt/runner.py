"""ONNX Runtime runner for YOLO detect / pose models exported by :mod:`inference.export`.

Providers follow the config: ``device: cpu`` -> CPU; ``cuda[:N]`` -> CUDA then
CPU; ``options.providers`` (e.g. ``["TensorrtExecutionProvider",
"CUDAExecutionProvider", "CPUExecutionProvider"]``) overrides both. A provider
that onnxruntime lacks is refused at load with the list of available ones.

Trained or not: the file's ``courtside_weights`` metadata (written by the
exporter); a file without it is reported "untrained" unless
``options.weights_state`` says otherwise - Courtside never claims training it
cannot see.

Options: ``providers``, ``weights_state``, ``max_det`` (300), ``warmup`` (True).
"""

from __future__ import annotations

import ast
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from contracts.annotations import DetectedObject
from courtside.config import ModelConfig
from inference.backends.base import Weights
from inference.backends.onnxrt.letterbox import (
    Letterbox,
    apply_letterbox,
    boxes_to_source,
    letterbox_params,
    points_to_source,
    to_blob,
)
from inference.backends.onnxrt.nms import decode_predictions
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)
OPTIONS = frozenset({"providers", "weights_state", "max_det", "warmup"})


def providers_for(device: str, requested: list[str] | None) -> list[str]:
    """Execution providers in priority order for ``device`` (or as requested)."""
    if requested:
        chosen = list(requested)
    elif device.startswith("cuda"):
        chosen = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    else:
        chosen = ["CPUExecutionProvider"]
    missing = [p for p in chosen if p not in ort.get_available_providers()]
    if missing:
        raise ModelLoadError(f"onnxruntime lacks {', '.join(missing)} (available: "
                             f"{', '.join(ort.get_available_providers())}); install onnxruntime-gpu "
                             "for CUDA/TensorRT or set device: cpu")
    return chosen


def _meta_literal(meta: dict[str, str], key: str, default: Any) -> Any:
    raw = meta.get(key)
    if raw is None:
        return default
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


class OnnxRunner:
    """A YOLO ONNX session with our own letterbox and NMS."""

    name = "onnx"

    def __init__(self, config: ModelConfig) -> None:
        unknown = set(config.options) - OPTIONS
        if unknown:
            raise ModelLoadError(f"model {config.name}: unknown onnx options {sorted(unknown)} "
                                 f"(known: {sorted(OPTIONS)})")
        if config.task == "track":
            raise ModelLoadError(f"model {config.name}: the onnx backend does not track; "
                                 "use backend ultralytics for task track")
        path = Path(config.weights).expanduser()
        if path.suffix != ".onnx" or not path.is_file():
            raise ModelLoadError(f"model {config.name}: weights must be an existing .onnx file, got "
                                 f"{config.weights!r} (make one with python -m inference.export)")
        options = ort.SessionOptions()
        if config.threads:
            options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        self.device = config.device
        providers = providers_for(config.device, config.options.get("providers"))
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except (RuntimeError, ValueError, ort.capi.onnxruntime_pybind11_state.Fail) as exc:
            raise ModelLoadError(f"model {config.name}: onnxruntime cannot load {path}: {exc}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        self.task = str(meta.get("task", "detect"))
        if self.task != config.task:
            raise ModelLoadError(f"model {config.name}: {path.name} is a {self.task} model but task is {config.task}")
        self.names: dict[int, str] = _meta_literal(meta, "names", {})
        self.stride = int(_meta_literal(meta, "stride", 32))
        self.kpt_shape: list[int] | None = _meta_literal(meta, "kpt_shape", None)
        inp = self.session.get_inputs()[0]
        self._input = inp.name
        self._dynamic_hw = not all(isinstance(d, int) for d in inp.shape[2:])
        self._fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.imgsz = config.imgsz if self._dynamic_hw else int(inp.shape[2])
        self.input_size = self.imgsz  # every image is letterboxed to it
        override = config.options.get("weights_state")
        state = override or meta.get("courtside_weights")
        self.weights: Weights = "trained" if state == "trained" else "untrained"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        self.version = f"{path.stem}-{digest}@onnxruntime-{ort.__version__}"
        self.conf, self.iou, self.classes = config.conf, config.iou, config.classes
        self.max_det = int(config.options.get("max_det", 300))
        if config.options.get("warmup", True):
            self.infer([np.zeros((self.imgsz, self.imgsz, 3), np.uint8)])
        log.info("model %s loaded: %s (%s, %s) with %s", config.name, self.version, self.task, self.weights,
                 ", ".join(self.session.get_providers()))

    def raw(self, images: list[np.ndarray]) -> tuple[list[np.ndarray], list[Letterbox]]:
        """Network outputs, one (C, N) array per image, and each image's letterbox."""
        outputs: list[np.ndarray] = [np.empty(0)] * len(images)
        boxes = [letterbox_params(im.shape[0], im.shape[1], self.imgsz, self.stride, auto=self._dynamic_hw)
                 for im in images]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, lb in enumerate(boxes):  # same input size -> one run (Ultralytics' rect batching)
            groups.setdefault((lb.src_h, lb.src_w), []).append(i)
        for idx in groups.values():
            chunk = 1 if self._fixed_batch == 1 else len(idx)
            for start in range(0, len(idx), chunk):
                part = idx[start:start + chunk]
                blob = to_blob([apply_letterbox(images[i], boxes[i]) for i in part])
                (pred,) = self.session.run(None, {self._input: blob})[:1]
                for i, p in zip(part, pred, strict=True):
                    outputs[i] = p
        return outputs, boxes

    def infer(self, images: list[np.ndarray]) -> list[list[DetectedObject]]:
        """Objects per image, boxes and keypoints in pixels of that image."""
        preds, boxes = self.raw(images)
        return [self._objects(p, lb) for p, lb in zip(preds, boxes, strict=True)]

    def _objects(self, pred: np.ndarray, lb: Letterbox) -> list[DetectedObject]:
        rows = decode_predictions(pred, len(self.names) or pred.shape[0] - 4, self.conf, self.iou,
                                  self.classes, self.max_det)
        xyxy = boxes_to_source(rows[:, :4], lb)
        kps = None
        if self.kpt_shape is not None and rows.shape[1] > 6:
            kps = points_to_source(rows[:, 6:].reshape(len(rows), *self.kpt_shape), lb)
        out = []
        for i in range(len(rows)):
            cls = int(rows[i, 5])
            points = None
            if kps is not None:
                points = tuple((float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 1.0) for p in kps[i])
            label = (str(self.names.get(cls, "")) or f"class-{cls}")[:64]
            x1, y1, x2, y2 = (float(v) for v in xyxy[i])
            out.append(DetectedObject(label=label, class_id=cls, score=float(rows[i, 4]),
                                      box=(x1, y1, x2, y2), keypoints=points))
        return out
