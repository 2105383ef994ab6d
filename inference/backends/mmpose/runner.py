"""The ``mmpose`` backend: RTMO one-stage and RTMPose top-down person pose (mmpose 1.3.2), COCO-17.

``models[].weights`` names a config shipped inside the package
(:data:`~inference.backends.mmpose.options.CONFIGS`): ``rtmo-t`` / ``rtmo-s`` find people
and their keypoints in one pass; ``rtmpose-t|s|m`` pose the person boxes another model
(``options.detector``) published for the same frame, joined by camera and seq
(:class:`~inference.backends.mmpose.detector_boxes.DetectorBoxes`, subscribed in
:meth:`MMPoseRunner.attach`, asked in :meth:`MMPoseRunner.infer_frames`). Weights:
:mod:`inference.backends.mmpose.weights`; options:
:class:`~inference.backends.mmpose.options.MMPoseOptions`.

Each batch runs the library's own test pipeline (composed once at load) and one
``model.test_step`` over every image (RTMO) or every box of every image (RTMPose),
which is what ``mmpose.apis.inference_bottomup`` / ``inference_topdown`` do per image.
Two settings differ from the shipped configs, both stated in the version's model
name and the docs: RTMO keeps ``max_candidates`` (default 300) before NMS and uses
``conf`` / ``iou`` as its score and NMS thresholds; RTMPose runs without the flip test
(one forward per box, as the ONNX path does; the flip test doubles the cost).

It needs its own environment (torch 2.13.0+cpu and an mmcv 2.1.0 compiled once per machine, see
docs/deploy.md)::

    inference/backends/mmpose/setup_env.sh     # builds .venvs/mmpose
    .venvs/mmpose/bin/python -m courtside --config courtside.yaml infer pose
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from courtside_contracts.annotations import DetectedObject

from courtside.config import ModelConfig
from inference.backends.base import FrameRef, Runner, Weights
from inference.backends.checkpoints import file_digest
from inference.backends.mmpose.box_join import Box
from inference.backends.mmpose.detector_boxes import DetectorBoxes
from inference.backends.mmpose.mm_env import import_mmpose, quiet
from inference.backends.mmpose.options import CONFIGS, ONE_STAGE, MMPoseOptions, check_model_config
from inference.backends.mmpose.weights import checkpoint_file, checkpoint_state, state_dict_of
from inference.backends.options import parse_options
from inference.backends.threads import cpu_threads
from inference.errors import ModelLoadError

apis = import_mmpose()

import mmpose  # noqa: E402 - after the containment above
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose, pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)
MMPOSE_VERSION: str = mmpose.__version__
CONFIG_ROOT = Path(mmpose.__file__).parent / ".mim" / "configs"
#: RTMO's candidates before NMS when options.max_candidates is not set.
DEFAULT_CANDIDATES = 300
#: What a broken config, checkpoint or architecture mismatch raises (translated into ModelLoadError).
LOAD_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, AttributeError, EOFError,
               AssertionError, pickle.UnpicklingError)


def build_config(name: str, conf: float, iou: float, max_candidates: int | None) -> Any:
    """The shipped config of ``name`` with Courtside's settings (module doc); no URL left in it."""
    cfg = Config.fromfile(str(CONFIG_ROOT / CONFIGS[name]))
    cfg.model.backbone.init_cfg = None  # a download.openmmlab.com URL: never fetched
    cfg.model.train_cfg = None
    if name in ONE_STAGE:
        cfg.model.test_cfg.update(score_thr=conf, nms_thr=iou, nms_pre=max_candidates or DEFAULT_CANDIDATES)
    else:
        cfg.model.test_cfg.flip_test = False
    return cfg


def load_model(config: ModelConfig, opts: MMPoseOptions) -> tuple[Any, Weights, str]:
    """(model in eval mode, weights state, version) per :mod:`inference.backends.mmpose.weights`."""
    name = config.weights
    cfg = build_config(name, config.conf, config.iou, opts.max_candidates)
    try:
        with quiet(f"building {name}"):
            model = apis.init_model(cfg, checkpoint=None, device=config.device)
    except LOAD_ERRORS as exc:
        raise ModelLoadError(f"model {config.name}: mmpose cannot build {name} ({CONFIGS[name]}): "
                             f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if int(model.dataset_meta.get("num_keypoints", 0)) != 17:
        raise ModelLoadError(f"model {config.name}: {name} does not predict COCO-17 keypoints")
    if opts.checkpoint_path is None:
        log.warning("model %s is built from its architecture only: RANDOM weights, annotations are "
                    "marked untrained (set options.checkpoint_path to a local mmpose checkpoint)", name)
        return model, "untrained", f"{name}-untrained@mmpose-{MMPOSE_VERSION}"
    file = checkpoint_file(opts.checkpoint_path, config.name)
    try:
        ckpt = torch.load(file, map_location="cpu", weights_only=False)  # a local file the operator placed
        with quiet(f"loading {file}"):
            model.load_state_dict(state_dict_of(ckpt, file, config.name), strict=True)
    except LOAD_ERRORS as exc:
        raise ModelLoadError(f"model {config.name}: mmpose cannot load {name} from {file}: "
                             f"{type(exc).__name__}: {str(exc)[:300]}") from None
    model.to(config.device).eval()
    state: Weights = opts.weights_state or checkpoint_state(ckpt if isinstance(ckpt, dict) else {})
    if state == "untrained":
        log.warning("checkpoint %s records no training run: annotations are marked untrained "
                    "(set options.weights_state if this is wrong)", file)
    return model, state, f"{name}-{file_digest(file)}@mmpose-{MMPOSE_VERSION}"


class MMPoseRunner(Runner):
    """A prepared mmpose model; ``infer_frames`` = join boxes (RTMPose), pipeline, one test_step, unmap."""

    name = "mmpose"

    def __init__(self, config: ModelConfig) -> None:
        opts = parse_options(MMPoseOptions, config)
        check_model_config(config, opts)
        self.one_stage = config.weights in ONE_STAGE
        torch.set_num_threads(cpu_threads(config.threads))
        self.model_name = config.weights
        self.device = config.device
        self.trained_on = None
        self._max_people = opts.max_people
        self._warmup = opts.warmup
        self._model, self.weights, self.version = load_model(config, opts)
        scope = self._model.cfg.get("default_scope", "mmpose")
        if scope is not None:
            init_default_scope(scope)
        self._pipeline = Compose(self._model.cfg.test_dataloader.dataset.pipeline)
        self._meta = dict(self._model.dataset_meta)
        size = tuple(self._model.cfg.codec["input_size"])  # (width, height) of the network input
        self.network_input: tuple[int, int] = (int(size[0]), int(size[1]))
        # RTMO resizes every frame to its square input; RTMPose crops boxes at full resolution.
        self.input_size = max(self.network_input) if self.one_stage else None
        #: people dropped because the model gave non-finite values (a broken checkpoint)
        self.nonfinite = 0
        self.boxes: DetectorBoxes | None = None
        if not self.one_stage:
            assert opts.detector is not None  # check_model_config
            self.boxes = DetectorBoxes(opts.detector, opts.detector_timeout_ms / 1e3, person_class=opts.person_class,
                                       min_score=config.conf, max_boxes=opts.max_people)
        log.info("model %s loaded: %s", config.name, self.describe().summary())

    async def attach(self, nc: NATS) -> None:
        if self.boxes is not None:
            await self.boxes.start(nc)

    async def detach(self) -> None:
        if self.boxes is not None:
            await self.boxes.stop()

    def warmup(self) -> None:
        if not self._warmup:
            return
        w, h = self.network_input
        blank = np.zeros((h, w, 3), np.uint8)
        if self.one_stage:
            self.infer([blank])
        else:
            self.pose_boxes([blank], [((0.0, 0.0, float(w), float(h), 1.0),)])

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        """RTMO: people per BGR image, in pixels of that image. RTMPose needs :meth:`infer_frames`."""
        if not self.one_stage:
            raise RuntimeError(f"{self.model_name} poses its detector's boxes: call infer_frames with each "
                               "image's frame (camera, seq)")
        return self._bottomup(images) if images else []

    def infer_frames(self, images: list[np.ndarray], frames: list[FrameRef]) -> Sequence[list[DetectedObject]]:
        """People per image; RTMPose first waits (at most the timeout) for each frame's detector boxes."""
        if self.boxes is None:
            return self.infer(images)
        return self.pose_boxes(images, self.boxes.boxes_in_images(images, frames))

    def pose_boxes(self, images: list[np.ndarray], boxes: list[tuple[Box, ...]]) -> list[list[DetectedObject]]:
        """RTMPose on given person boxes (image pixels, with scores): one test_step over all of them."""
        data, owner = [], []
        for i, (image, image_boxes) in enumerate(zip(images, boxes, strict=True)):
            for x1, y1, x2, y2, score in image_boxes[: self._max_people]:
                info = {"img": image, "bbox": np.array([[x1, y1, x2, y2]], np.float32),
                        "bbox_score": np.array([score], np.float32), **self._meta}
                data.append(self._pipeline(info))
                owner.append(i)
        out: list[list[DetectedObject]] = [[] for _ in images]
        if not data:
            return out
        with torch.inference_mode():
            samples = self._model.test_step(pseudo_collate(data))
        for i, sample in zip(owner, samples, strict=True):
            inst = sample.pred_instances
            h, w = images[i].shape[:2]
            box = tuple(float(v) for v in inst.bboxes[0])
            out[i].append(_person(box, float(inst.bbox_scores[0]), inst.keypoints[0], inst.keypoint_scores[0], w, h))
        return out

    def _bottomup(self, images: list[np.ndarray]) -> list[list[DetectedObject]]:
        data = [self._pipeline({"img": image, **self._meta}) for image in images]
        with torch.inference_mode():
            samples = self._model.test_step(pseudo_collate(data))
        out = []
        for image, sample in zip(images, samples, strict=True):
            inst = sample.pred_instances
            h, w = image.shape[:2]
            finite = _finite(inst.bboxes, inst.bbox_scores, inst.keypoints, inst.keypoint_scores)
            if not finite.all():  # a broken checkpoint: never publish NaN (it is not JSON)
                self.nonfinite += int((~finite).sum())
                if self.nonfinite == int((~finite).sum()):
                    log.warning("model %s produced people with non-finite values; they are dropped "
                                "(counted in nonfinite)", self.model_name)
            order = [j for j in np.argsort(-np.asarray(inst.bbox_scores), kind="stable") if finite[j]]
            out.append([_person(tuple(float(v) for v in inst.bboxes[j]), float(inst.bbox_scores[j]),
                                inst.keypoints[j], inst.keypoint_scores[j], w, h) for j in order[: self._max_people]])
        return out

    def close(self) -> None:
        """Nothing to release beyond the model (torch frees it with the runner)."""


def _finite(boxes: Any, scores: Any, keypoints: Any, keypoint_scores: Any) -> np.ndarray:
    """Per instance: every value finite (boxes N x 4, scores N, keypoints N x K x 2, their scores N x K)."""
    n = len(scores)
    parts = [np.asarray(a, np.float64).reshape(n, -1) for a in (boxes, scores, keypoints, keypoint_scores)]
    return np.asarray(np.isfinite(np.concatenate(parts, axis=1)).all(axis=1), bool)


def _person(box: tuple[float, ...], score: float, keypoints: Any, scores: Any, w: int, h: int) -> DetectedObject:
    x1, y1, x2, y2 = box
    kps = tuple((min(max(float(x), 0.0), w), min(max(float(y), 0.0), h), float(s))
                for (x, y), s in zip(np.asarray(keypoints), np.asarray(scores), strict=True))
    clipped = (min(max(x1, 0.0), w), min(max(y1, 0.0), h), min(max(x2, 0.0), w), min(max(y2, 0.0), h))
    return DetectedObject(label="person", class_id=0, score=score, box=clipped, keypoints=kps)
