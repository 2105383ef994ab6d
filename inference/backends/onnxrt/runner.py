"""ONNX Runtime runner for YOLO detect / pose models exported by :mod:`inference.export`.

Providers follow the config: ``device: cpu`` -> CPU; ``cuda[:N]`` -> CUDA then
CPU; ``options.providers`` (e.g. ``["TensorrtExecutionProvider",
"CUDAExecutionProvider", "CPUExecutionProvider"]``) overrides both. A provider
that onnxruntime lacks is refused at load with the list of available ones.

Trained or not: the file's ``courtside_weights`` metadata (written by the
exporter); a file without it is reported "untrained" unless
``options.weights_state`` says otherwise - Courtside never claims training it
cannot see.

Options: :class:`inference.backends.onnxrt.options.OnnxOptions`.
"""

from __future__ import annotations

import ast
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner, Weights
from inference.backends.onnxrt.letterbox import (
    Letterbox,
    apply_letterbox,
    boxes_to_source,
    letterbox_params,
    points_to_source,
    to_blob,
)
from inference.backends.onnxrt.nms import decode_predictions
from inference.backends.onnxrt.options import OnnxOptions
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)
_STATE = ort.capi.onnxruntime_pybind11_state
#: What InferenceSession raises for a file it cannot use (none of them derive from RuntimeError).
_ORT_LOAD_ERRORS: tuple[type[Exception], ...] = (
    RuntimeError, ValueError, _STATE.Fail, _STATE.InvalidProtobuf, _STATE.InvalidGraph, _STATE.NoSuchFile, _STATE.NoModel,
    _STATE.InvalidArgument, _STATE.NotImplemented, _STATE.RuntimeException)


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


class OnnxRunner(Runner):
    """A YOLO ONNX session with our own letterbox and NMS."""

    name = "onnx"

    def __init__(self, config: ModelConfig) -> None:
        self.options = parse_options(OnnxOptions, config)
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
        # No busy-waiting between runs: a spinning pool takes the cores that JPEG decoding, the
        # event loop and other consumers need (4 streams on 2 cores: 5.8 -> 17.5 fps end to end).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.device = config.device
        providers = providers_for(config.device, self.options.providers)
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except _ORT_LOAD_ERRORS as exc:
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
        state = self.options.weights_state or meta.get("courtside_weights")
        self.weights: Weights = "trained" if state == "trained" else "untrained"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        self.version = f"{path.stem}-{digest}@onnxruntime-{ort.__version__}"
        self.model_name = path.stem
        self.conf, self.iou, self.classes = config.conf, config.iou, config.classes
        self.max_det = self.options.max_det
        log.info("model %s loaded: %s (%s, %s) with %s", config.name, self.version, self.task, self.weights,
                 ", ".join(self.session.get_providers()))

    def warmup(self) -> None:
        """One blank inference at the input size (unless ``options.warmup`` is false)."""
        if self.options.warmup:
            self.infer([np.zeros((self.imgsz, self.imgsz, 3), np.uint8)])

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

    def detections(self, images: list[np.ndarray]) -> list[Detections]:
        """Per image: the rows kept by NMS with boxes and keypoints mapped to that image's pixels."""
        preds, boxes = self.raw(images)
        return [self._detections(p, lb) for p, lb in zip(preds, boxes, strict=True)]

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        """Objects per image, boxes and keypoints in pixels of that image."""
        return [objects_from_detections(self.names, d) for d in self.detections(images)]

    def _detections(self, pred: np.ndarray, lb: Letterbox) -> Detections:
        rows = decode_predictions(pred, len(self.names) or pred.shape[0] - 4, self.conf, self.iou,
                                  self.classes, self.max_det)
        kps = None
        if self.kpt_shape is not None and rows.shape[1] > 6:
            kps = points_to_source(rows[:, 6:].reshape(len(rows), *self.kpt_shape), lb)
        return Detections(boxes_to_source(rows[:, :4], lb), rows[:, 4].copy(), rows[:, 5].astype(np.int64), kps)


@dataclass(frozen=True, slots=True)
class Detections:
    """One image's kept detections: ``xyxy`` (N, 4) and ``keypoints`` (N, K, 2|3) in pixels of
    that image, ``scores`` (N,) in [0, 1], ``classes`` (N,) class ids."""

    xyxy: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    keypoints: np.ndarray | None = None


def objects_from_detections(names: dict[int, str], det: Detections) -> list[DetectedObject]:
    """Contract objects (labels from ``names``, limited to the contract's 64 characters)."""
    out = []
    for i in range(len(det.scores)):
        cls = int(det.classes[i])
        points = None
        if det.keypoints is not None:
            points = tuple((float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 1.0)
                           for p in det.keypoints[i])
        label = (str(names.get(cls, "")) or f"class-{cls}")[:64]
        x1, y1, x2, y2 = (float(v) for v in det.xyxy[i])
        out.append(DetectedObject(label=label, class_id=cls, score=float(det.scores[i]),
                                  box=(x1, y1, x2, y2), keypoints=points))
    return out
