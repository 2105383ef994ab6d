"""The ``mmpose-onnx`` backend: RTMPose exported by ``python -m inference.backends.mmpose.export``, on ONNX Runtime, no mmcv.

The lean production path: the same top-down model as ``mmpose`` (``rtmpose-t|s|m``) with
numpy/OpenCV pre- and post-processing (:mod:`inference.backends.mmpose.topdown`, each
step as mmpose does it), in the main environment or the ``inference-onnxruntime`` image.
``models[].weights`` is the ``.onnx`` file; the person boxes come from
``options.detector`` exactly as for the native backend (joined by camera and seq in
:meth:`MMPoseOnnxRunner.infer_frames`). Output equals the native backend's within
float error (``tests/inference/test_infer_mmpose.py`` states the tolerance).

Trained or not: the file's ``courtside_weights`` (written by the exporter); a file
without it is "untrained" unless ``options.weights_state`` says otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import FrameRef, Runner, Weights
from inference.backends.mmpose import topdown
from inference.backends.mmpose.box_join import Box
from inference.backends.mmpose.detector_boxes import DetectorBoxes
from inference.backends.mmpose.options import TOP_DOWN, MMPoseOnnxOptions, check_topdown
from inference.backends.onnxrt.runner import _ORT_LOAD_ERRORS, providers_for
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)


class MMPoseOnnxRunner(Runner):
    """An exported RTMPose session; ``infer_frames`` = join boxes, crop, one run, SimCC decode, unmap."""

    name = "mmpose-onnx"

    def __init__(self, config: ModelConfig) -> None:
        opts = parse_options(MMPoseOnnxOptions, config)
        path = Path(config.weights).expanduser()
        if path.suffix != ".onnx" or not path.is_file():
            raise ModelLoadError(f"model {config.name}: mmpose-onnx weights must be an existing .onnx file, got "
                                 f"{config.weights!r} (make one with python -m inference.backends.mmpose.export in .venvs/mmpose)")
        check_topdown(config, opts, f"model {config.name}: mmpose-onnx {path.name}")
        session_options = ort.SessionOptions()
        if config.threads:
            session_options.intra_op_num_threads = config.threads
        session_options.inter_op_num_threads = 1
        self.device = config.device
        try:
            self.session = ort.InferenceSession(str(path), sess_options=session_options,
                                                providers=providers_for(config.device, opts.providers))
        except _ORT_LOAD_ERRORS as exc:
            raise ModelLoadError(f"model {config.name}: onnxruntime cannot load {path}: {exc}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        model = meta.get("courtside_model", "")
        if model not in TOP_DOWN or meta.get("keypoints") != "coco-17":
            raise ModelLoadError(f"model {config.name}: {path} is not an RTMPose export (courtside_model "
                                 f"{model!r}); make it with python -m inference.backends.mmpose.export")
        try:
            width, height = (int(v) for v in meta["input_size"].split(","))
            self._ratio = float(meta["simcc_split_ratio"])
        except (KeyError, ValueError):
            raise ModelLoadError(f"model {config.name}: {path} lacks input_size / simcc_split_ratio "
                                 "metadata; re-export it with python -m inference.backends.mmpose.export") from None
        self.network_input = (width, height)
        self.model_name = model
        state = opts.weights_state or meta.get("courtside_weights")
        self.weights: Weights = "trained" if state == "trained" else "untrained"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        source = meta.get("courtside_version", model)
        self.version = f"{source}+onnx-{digest}@onnxruntime-{ort.__version__}"
        self.input_size = None  # crops each box at full resolution
        self._input = self.session.get_inputs()[0].name
        self._max_people = opts.max_people
        self._warmup = opts.warmup
        assert opts.detector is not None  # check_topdown
        self.boxes = DetectorBoxes(opts.detector, opts.detector_timeout_ms / 1e3, person_class=opts.person_class,
                                   min_score=config.conf, max_boxes=opts.max_people)
        log.info("model %s loaded: %s with %s", config.name, self.describe().summary(),
                 ", ".join(self.session.get_providers()))

    async def attach(self, nc: NATS) -> None:
        await self.boxes.start(nc)

    async def detach(self) -> None:
        await self.boxes.stop()

    def warmup(self) -> None:
        if self._warmup:
            w, h = self.network_input
            self.pose_boxes([np.zeros((h, w, 3), np.uint8)], [((0.0, 0.0, float(w), float(h), 1.0),)])

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        raise RuntimeError(f"{self.model_name} poses its detector's boxes: call infer_frames with each "
                           "image's frame (camera, seq)")

    def infer_frames(self, images: list[np.ndarray], frames: list[FrameRef]) -> Sequence[list[DetectedObject]]:
        """People per image; each frame first waits (at most the timeout) for its detector boxes."""
        return self.pose_boxes(images, self.boxes.boxes_in_images(images, frames))

    def pose_boxes(self, images: list[np.ndarray], boxes: list[tuple[Box, ...]]) -> list[list[DetectedObject]]:
        """RTMPose on given person boxes (image pixels, with scores): one session run over all of them."""
        w, h = self.network_input
        crops, where = [], []
        for i, (image, image_boxes) in enumerate(zip(images, boxes, strict=True)):
            for box in image_boxes[: self._max_people]:
                center, scale = topdown.center_scale(box[:4], w / h)
                crops.append(topdown.crop(image, center, scale, self.network_input))
                where.append((i, box, center, scale))
        out: list[list[DetectedObject]] = [[] for _ in images]
        if not crops:
            return out
        simcc_x, simcc_y = self.session.run(None, {self._input: topdown.normalize(crops)})
        points, scores = topdown.simcc_decode(np.asarray(simcc_x), np.asarray(simcc_y), self._ratio)
        for (i, box, center, scale), kp, sc in zip(where, points, scores, strict=True):
            ih, iw = images[i].shape[:2]
            frame_kp = topdown.clamp_keypoints(topdown.to_frame(kp, center, scale, self.network_input), iw, ih)
            x1, y1, x2, y2, score = box
            clipped = (min(max(x1, 0.0), iw), min(max(y1, 0.0), ih), min(max(x2, 0.0), iw), min(max(y2, 0.0), ih))
            out[i].append(DetectedObject(
                label="person", class_id=0, score=float(score), box=clipped,
                keypoints=tuple((float(x), float(y), float(s)) for (x, y), s in zip(frame_kp, sc, strict=True))))
        return out

    def close(self) -> None:
        """Nothing to release beyond the session (freed with the runner)."""
