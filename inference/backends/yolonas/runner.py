"""The ``yolonas`` backend: YOLO-NAS detection and pose (super-gradients 3.7.1), CPU or GPU.

``models[].weights`` names the architecture: ``yolo_nas_s|m|l`` (task ``detect``) or
``yolo_nas_pose_n|s|m|l`` (task ``pose``: one ``person`` per instance with COCO-17
keypoints in pixels). Weights: :mod:`inference.backends.yolonas.weights`; options:
:class:`~inference.backends.yolonas.options.YoloNasOptions`.

The library's ``predict()`` builds a pipeline per call and, by default, deep-copies and
re-fuses the model every time (yolo_nas_s: 225 ms instead of 141 ms forward on this
CPU). Here the model is prepared once at load (eval, QARepVGG branches fused by
``prep_model_for_conversion``) and each batch runs the library's own public pieces
around one forward: its COCO image processor (RGB, longest side to 636, centre pad to
640 for detect; bottom-right pad for pose), the model's post-prediction callback (NMS),
and the processor's inverse mapping back to frame pixels. Results equal ``predict()``'s.

It needs its own environment (numpy 1.23, torch 2.14.1)::

    inference/backends/yolonas/setup_env.sh     # builds .venvs/yolonas
    .venvs/yolonas/bin/python -m courtside --config courtside.yaml infer people
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import Runner, Weights
from inference.backends.checkpoints import file_digest
from inference.backends.options import parse_options
from inference.backends.threads import cpu_threads
from inference.backends.yolonas.options import DETECT_ARCHITECTURES, POSE_ARCHITECTURES, YoloNasOptions
from inference.backends.yolonas.sg_env import import_super_gradients
from inference.backends.yolonas.weights import checkpoint_file, checkpoint_state
from inference.errors import ModelLoadError

sg_models = import_super_gradients()

import super_gradients  # noqa: E402 - after the containment above
import torch  # noqa: E402
from super_gradients.training.processing.processing import (  # noqa: E402
    default_yolo_nas_coco_processing_params,
    default_yolo_nas_pose_coco_processing_params,
)
from super_gradients.training.utils.predict import (  # noqa: E402
    DetectionPrediction,
    PoseEstimationPrediction,
)

log = logging.getLogger(__name__)
SG_VERSION = super_gradients.__version__
#: Unreachable downloads and broken files raise these (translated into one log line or ModelLoadError).
LOAD_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, AttributeError, EOFError,
               pickle.UnpicklingError)


def load_model(config: ModelConfig, opts: YoloNasOptions, pose: bool) -> tuple[Any, Weights, str]:
    """(model, weights state, version) per the policy of :mod:`inference.backends.yolonas.weights`."""
    arch, classes = config.weights, 17 if pose else (opts.num_classes or 80)
    if opts.checkpoint_path is not None:
        file = checkpoint_file(opts.checkpoint_path, config.name)
        try:
            ckpt = torch.load(file, map_location="cpu", weights_only=False)
            model = sg_models.get(arch, num_classes=classes, checkpoint_path=str(file))
        except LOAD_ERRORS as exc:
            raise ModelLoadError(f"model {config.name}: yolonas cannot load {arch} from {file}: "
                                 f"{type(exc).__name__}: {str(exc)[:300]}") from None
        state: Weights = opts.weights_state or checkpoint_state(ckpt if isinstance(ckpt, dict) else {})
        if state == "untrained":
            log.warning("checkpoint %s records no training run: annotations are marked untrained "
                        "(set options.weights_state if this is wrong)", file)
        return model, state, f"{arch}-{file_digest(file)}@super-gradients-{SG_VERSION}"
    if opts.pretrained:
        dataset = "coco_pose" if pose else "coco"
        try:
            model = sg_models.get(arch, num_classes=classes, pretrained_weights=dataset)
            return model, opts.weights_state or "trained", f"{arch}-{dataset}@super-gradients-{SG_VERSION}"
        except LOAD_ERRORS as exc:
            log.error("WEIGHTS UNAVAILABLE: cannot load %s's pretrained %s weights (%s: %s). Falling back "
                      "to the untrained architecture %s: detections are meaningless and every annotation "
                      "says weights=untrained. Place a checkpoint locally and set options.checkpoint_path.",
                      arch, dataset, type(exc).__name__, str(exc)[:200], arch)
    else:
        log.warning("model %s is built from its architecture only: RANDOM weights, annotations are "
                    "marked untrained", arch)
    try:
        model = sg_models.get(arch, num_classes=classes)
    except LOAD_ERRORS as exc:
        raise ModelLoadError(f"model {config.name}: yolonas cannot build {arch}: {exc}") from None
    return model, "untrained", f"{arch}-untrained@super-gradients-{SG_VERSION}"


class YoloNasRunner(Runner):
    """A prepared YOLO-NAS model; ``infer`` = preprocess, one forward per batch, NMS, unmap."""

    name = "yolonas"

    def __init__(self, config: ModelConfig) -> None:
        opts = parse_options(YoloNasOptions, config)
        self.pose = config.weights in POSE_ARCHITECTURES
        if config.weights not in DETECT_ARCHITECTURES + POSE_ARCHITECTURES:
            raise ModelLoadError(f"model {config.name}: yolonas weights must name an architecture "
                                 f"({', '.join(DETECT_ARCHITECTURES + POSE_ARCHITECTURES)}), got "
                                 f"{config.weights!r}; a checkpoint goes in options.checkpoint_path")
        want = "pose" if self.pose else "detect"
        if config.task != want:
            raise ModelLoadError(f"model {config.name}: {config.weights} is a {want} model but task is "
                                 f"{config.task} (the yolonas backend has no tracker)")
        if config.imgsz != 640:
            raise ModelLoadError(f"model {config.name}: yolonas runs at its COCO processing size 640, "
                                 f"got imgsz {config.imgsz}")
        if self.pose and (opts.num_classes not in (None, 17) or opts.class_names is not None):
            raise ModelLoadError(f"model {config.name}: {config.weights} estimates COCO-17 person poses: "
                                 "num_classes and class_names do not apply")
        torch.set_num_threads(cpu_threads(config.threads))
        self.model_name = config.weights
        self.device = config.device
        self.input_size = 640
        self._config = config
        model, self.weights, self.version = load_model(config, opts, self.pose)
        params = (default_yolo_nas_pose_coco_processing_params() if self.pose
                  else default_yolo_nas_coco_processing_params())
        classes = opts.class_names or list(params.get("class_names", []))
        if not self.pose and len(classes) != (opts.num_classes or 80):
            raise ModelLoadError(f"model {config.name}: {len(classes)} class_names for "
                                 f"{opts.num_classes or 80} classes")
        self._labels = classes
        self._processor = params["image_processor"]
        self._skeleton = {k: np.asarray(params[k]) for k in ("edge_links", "edge_colors", "keypoint_colors")
                          if self.pose}
        self.trained_on = "COCO 2017" if self.version.split("@")[0].endswith(("-coco", "-coco_pose")) else None
        model.set_dataset_processing_params(**params)
        model = model.to(config.device).eval()
        model.prep_model_for_conversion(input_size=(640, 640))  # fuse once, never per call
        self._model = model
        if self.pose:  # the library's predict() defaults: 300 candidates, 100 people
            self._post = model.get_post_prediction_callback(
                conf=config.conf, iou=config.iou, pre_nms_max_predictions=opts.nms_top_k or 300,
                post_nms_max_predictions=opts.max_predictions or 100)
        else:  # predict()'s defaults: 1024 candidates, 300 objects, one label per class, per-class NMS
            self._post = model.get_post_prediction_callback(
                conf=config.conf, iou=config.iou, nms_top_k=opts.nms_top_k or 1024,
                max_predictions=opts.max_predictions or 300, multi_label_per_box=True, class_agnostic_nms=False)
        self._classes = None if config.classes is None else frozenset(config.classes)
        self._warmup = opts.warmup
        log.info("model %s loaded: %s", config.name, self.describe().summary())

    def warmup(self) -> None:
        if self._warmup:
            self.infer([np.zeros((640, 640, 3), np.uint8)])

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        """Objects per BGR image, in pixels of that image."""
        if not images:
            return []
        prepared = [self._processor.preprocess_image(np.ascontiguousarray(im[:, :, ::-1])) for im in images]
        batch = torch.from_numpy(np.stack([p for p, _ in prepared])).to(self.device, torch.float32)
        with torch.inference_mode():
            raw = self._model(batch)
            decoded = self._post(raw) if self.pose else self._post(raw, device=self.device)
        return [self._objects(out, meta, image.shape) for out, (_, meta), image in
                zip(decoded, prepared, images, strict=True)]

    def _objects(self, out: Any, meta: Any, shape: tuple[int, ...]) -> list[DetectedObject]:
        if self.pose:
            pred = PoseEstimationPrediction(
                poses=out.poses.cpu().numpy(), scores=out.scores.cpu().numpy(),
                bboxes_xyxy=out.bboxes_xyxy.cpu().numpy(), image_shape=(640, 640), **self._skeleton)
            pred = self._processor.postprocess_predictions(predictions=pred, metadata=meta)
            return [_person(box, float(score), pose, shape) for box, score, pose in
                    zip(pred.bboxes_xyxy, pred.scores, pred.poses, strict=True)]
        rows = torch.zeros((0, 6)) if out is None else out.detach().cpu()
        arr = rows.numpy()
        pred = DetectionPrediction(bboxes=arr[:, :4], confidence=arr[:, 4], labels=arr[:, 5].astype(int),
                                   bbox_format="xyxy", image_shape=(640, 640))
        pred = self._processor.postprocess_predictions(predictions=pred, metadata=meta)
        objects = []
        for box, score, label in zip(pred.bboxes_xyxy, pred.confidence, pred.labels, strict=True):
            cid = int(label)
            if self._classes is None or cid in self._classes:
                objects.append(DetectedObject(label=self._labels[cid], class_id=cid, score=float(score),
                                              box=_clip(box, shape)))
        return objects

    def close(self) -> None:
        """Nothing to release beyond the model (torch frees it with the runner)."""


def _clip(box: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    h, w = shape[0], shape[1]
    x1, y1, x2, y2 = (float(v) for v in box)
    return (min(max(x1, 0.0), w), min(max(y1, 0.0), h), min(max(x2, 0.0), w), min(max(y2, 0.0), h))


def _person(box: np.ndarray, score: float, pose: np.ndarray, shape: tuple[int, ...]) -> DetectedObject:
    h, w = shape[0], shape[1]
    keypoints = tuple((min(max(float(x), 0.0), w), min(max(float(y), 0.0), h), float(s)) for x, y, s in pose)
    return DetectedObject(label="person", class_id=0, score=score, box=_clip(box, shape), keypoints=keypoints)
