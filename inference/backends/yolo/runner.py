"""The Ultralytics runner: YOLO detect / pose / track behind the Runner interface.

What runs the network (``options.runtime``): by default on the CPU, ONNX Runtime on
the model's own ONNX export (:mod:`inference.backends.yolo.onnx_cache`: exported once
at start, cached by the weights' hash), with our letterbox and NMS, which reproduce
Ultralytics' (tests/inference/test_infer_onnx_default.py); trackers then run on those
detections exactly as on torch's. When the export or the session fails it falls
back to torch with one warning. Weights state, labels and the untrained fallback
are decided here either way, from the loaded Ultralytics model.

On torch, batches go to ``model.predict`` as one list. Images of different sizes are
predicted in separate calls (grouped by shape) so that a frame's result never
depends on what else shared its batch (Ultralytics pads a mixed batch to a
square, a same-shape batch only to the stride).

``options``: :class:`inference.backends.yolo.options.UltralyticsOptions`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from courtside.config import ModelConfig
from inference.backends.base import Runner, Weights
from inference.backends.checkpoints import file_digest
from inference.backends.options import parse_options
from inference.backends.threads import cpu_threads
from inference.backends.yolo.env import configure_offline
from inference.backends.yolo.onnx_cache import DEFAULT_CACHE_DIR, discard, onnx_file
from inference.backends.yolo.options import UltralyticsOptions
from inference.backends.yolo.quantize import int8_path, quantize_int8
from inference.backends.yolo.weights import checkpoint_state, fallback_yaml, is_architecture, local_weights
from inference.errors import ExportError, ModelLoadError

configure_offline()

import torch  # noqa: E402 - after the offline environment
import ultralytics  # noqa: E402
import ultralytics.utils.torch_utils  # noqa: E402
from ultralytics import YOLO  # type: ignore[attr-defined]  # noqa: E402
from ultralytics.engine.results import Results  # noqa: E402

from inference.backends.yolo.convert import objects_from_arrays, objects_from_result  # noqa: E402
from inference.backends.yolo.tracking import TrackerBank  # noqa: E402

if TYPE_CHECKING:
    from inference.backends.onnxrt.runner import OnnxRunner

log = logging.getLogger(__name__)
_TASKS = {"detect": "detect", "track": "detect", "pose": "pose"}


def load_yolo(weights: str, override: Weights | None = None) -> tuple[Any, Weights, str]:
    """Load per the policy of :mod:`inference.backends.yolo.weights`: (model, state, version).

    ``override`` (``options.weights_state``) replaces a loaded checkpoint's own state, never the fallback's.
    """
    if is_architecture(weights):
        log.warning("model %s is built from its architecture only: RANDOM weights, annotations "
                    "are marked untrained", weights)
        return _build_untrained(weights)
    path = Path(weights).expanduser()
    try:
        model = YOLO(str(path) if path.exists() else weights)
    except (OSError, ConnectionError, FileNotFoundError, RuntimeError, ValueError, KeyError) as exc:
        yaml_name = fallback_yaml(weights)
        log.error("WEIGHTS UNAVAILABLE: cannot load %s (%s: %s). Falling back to the untrained "
                  "architecture %s: detections are meaningless and every annotation says "
                  "weights=untrained. Place the .pt file locally and set models[].weights to its path.",
                  weights, type(exc).__name__, str(exc)[:200], yaml_name)
        return _build_untrained(yaml_name)
    state: Weights = override or checkpoint_state(getattr(model, "ckpt", None))
    ckpt_path = getattr(model, "ckpt_path", None)
    digest = file_digest(Path(str(ckpt_path))) if ckpt_path else "nofile"
    if state == "untrained":
        log.warning("checkpoint %s records no training run: annotations are marked untrained "
                    "(set options.weights_state if this is wrong)", weights)
    return model, state, f"{Path(weights).stem}-{digest}"


def trained_on(ckpt: dict[str, Any] | None) -> str | None:
    """The dataset a checkpoint's training run names (``train_args.data``, e.g. ``coco.yaml``), if any."""
    data = ((ckpt or {}).get("train_args") or {}).get("data")
    return Path(str(data)).name if data else None


def _build_untrained(yaml_name: str) -> tuple[Any, Weights, str]:
    try:
        model = YOLO(yaml_name)
    except (OSError, FileNotFoundError, RuntimeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot build the architecture {yaml_name}: {exc}") from None
    return model, "untrained", f"{Path(yaml_name).stem}-untrained"


class UltralyticsRunner(Runner):
    """A loaded YOLO model. ``stateful`` (per-camera trackers) when ``task == 'track'``."""

    name = "ultralytics"

    def __init__(self, config: ModelConfig) -> None:
        self.options = parse_options(UltralyticsOptions, config)
        self.config = config
        threads = cpu_threads(config.threads)
        torch.set_num_threads(threads)
        # Ultralytics' select_device() resets torch to its NUM_THREADS (cpu_count - 1, i.e. 1 on
        # 2 cores) at every predictor set-up, per-camera trackers included: make it ours.
        ultralytics.utils.torch_utils.NUM_THREADS = threads  # type: ignore[attr-defined]
        weights = local_weights(config.weights)  # shipped:<name> -> the committed file
        self.model, self.weights, version = load_yolo(weights, self.options.weights_state)
        self.model_name = Path(weights).stem  # the fallback architecture has the same stem
        self.trained_on = trained_on(getattr(self.model, "ckpt", None)) if self.weights == "trained" else None
        self.version = f"{version}@ultralytics-{ultralytics.__version__}"
        want = _TASKS[config.task]
        if self.model.task != want:
            raise ModelLoadError(f"model {config.name}: {config.weights} is a {self.model.task} model "
                                 f"but task is {config.task}")
        self.device = config.device
        self.input_size = config.imgsz  # predict letterboxes every image to imgsz
        self.half = config.half and config.device.startswith("cuda")
        if config.half and not self.half:
            log.warning("model %s: half=true ignored on %s (FP16 is GPU only)", config.name, config.device)
        self.stateful = config.task == "track"
        self._trackers = TrackerBank(self.options.tracker) if self.stateful else None
        conf = min(config.conf, 0.1) if self.stateful else config.conf  # trackers use low-score boxes
        self._predict_args: dict[str, Any] = {
            "imgsz": config.imgsz, "conf": conf, "iou": config.iou, "classes": config.classes,
            "device": config.device, "verbose": False, "max_det": self.options.max_det,
        }
        if self.half:
            self._predict_args["quantize"] = "fp16"  # Ultralytics 8.4's name for half=True
        self._onnx = self._onnx_runner(conf)
        self.runtime = "torch" if self._onnx is None else "onnxruntime"
        if self._onnx is not None:
            ort_version = self._onnx.version.partition("@onnxruntime-")[2]
            int8 = "-int8" if self.options.precision == "int8" else ""
            self.version = f"{self.version}+onnxruntime-{ort_version}{int8}"
        log.info("model %s loaded: %s (%s, %s) on %s with %s, %d threads", config.name, self.version,
                 config.task, self.weights, self.device, self.runtime,
                 config.threads or torch.get_num_threads())

    def _onnx_runner(self, conf: float) -> OnnxRunner | None:
        """The ONNX Runtime copy of the model per ``options.runtime``, or None for torch.

        ``auto`` takes it on the CPU only and falls back to torch, with one warning, when the
        export or the session fails; ``onnx`` raises :class:`ModelLoadError` instead.
        """
        mode, config = self.options.runtime, self.config
        if mode == "torch" or (mode == "auto" and not config.device.startswith("cpu")):
            return None
        if self.half:
            raise ModelLoadError(f"model {config.name}: half=true needs options.runtime torch "
                                 "(the ONNX export is fp32)")
        try:
            return _load_onnx(self.model, self.weights, self.version, config, conf, self.options)
        except (ExportError, ModelLoadError, ImportError) as exc:
            if mode == "onnx":
                raise ModelLoadError(f"model {config.name}: runtime onnx unavailable: {exc}") from None
            log.warning("model %s: ONNX Runtime path unavailable, serving with torch (slower): %s",
                        config.name, exc)
            return None

    def warmup(self) -> None:
        """One blank inference at ``imgsz`` (unless ``options.warmup`` is false)."""
        if self.options.warmup:
            blank = np.zeros((self.config.imgsz, self.config.imgsz, 3), np.uint8)
            if self._onnx is not None:
                self._onnx.infer([blank])
            else:
                self.predict([blank])

    def predict(self, images: list[np.ndarray]) -> list[Any]:
        """Raw Ultralytics results, input order; one ``predict`` call per image shape."""
        results: list[Any] = [None] * len(images)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(image.shape, []).append(i)
        for idx in groups.values():
            batch = [images[i] for i in idx]
            for i, res in zip(idx, self.model.predict(batch, batch=len(batch), **self._predict_args),
                              strict=True):
                results[i] = res
        return results

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[Any]]:
        """Detections per image (pixels of that image); tracks need ``cameras``."""
        if self._onnx is not None:
            return self._infer_onnx(images, cameras)
        results = self.predict(images)
        if self._trackers is not None:
            if cameras is None or len(cameras) != len(images):
                raise ValueError("tracking needs the camera of every image")
            results = [self._trackers.update(cam, res) for cam, res in zip(cameras, results, strict=True)]
        return [objects_from_result(res) for res in results]

    def _infer_onnx(self, images: list[np.ndarray], cameras: list[str] | None) -> list[list[Any]]:
        """ONNX Runtime detections; trackers run here on them, exactly as on torch's results."""
        assert self._onnx is not None
        dets = self._onnx.detections(images)
        names = self.model.names
        if self._trackers is None:
            return [objects_from_arrays(names, d.xyxy, d.scores, d.classes, None, d.keypoints) for d in dets]
        if cameras is None or len(cameras) != len(images):
            raise ValueError("tracking needs the camera of every image")
        out = []
        for cam, image, d in zip(cameras, images, dets, strict=True):
            rows = np.concatenate([d.xyxy, d.scores[:, None], d.classes[:, None].astype(np.float32)], axis=1)
            result = Results(image, path="", names=names, boxes=torch.from_numpy(rows))
            out.append(objects_from_result(self._trackers.update(cam, result)))
        return out

    def reset(self, camera: str) -> None:
        """Drop ``camera``'s tracker (track ids start afresh)."""
        if self._trackers is not None:
            self._trackers.reset(camera)


def _exporter() -> str:
    return f"ultralytics{ultralytics.__version__}-torch{torch.__version__}"


def _load_onnx(model: Any, state: Weights, version: str, config: ModelConfig, conf: float,
               options: UltralyticsOptions) -> OnnxRunner:
    """Export ``model`` (or take its cached export) and open it with ONNX Runtime.

    A cached file that does not load is discarded and exported once more.
    """
    from inference.backends.onnxrt.runner import OnnxRunner

    ckpt_path = getattr(model, "ckpt_path", None)
    source = Path(str(ckpt_path)) if ckpt_path and Path(str(ckpt_path)).is_file() else None
    cache_dir = Path(options.onnx_cache_dir).expanduser() if options.onnx_cache_dir else DEFAULT_CACHE_DIR
    inner = config.model_copy(update={
        "backend": "onnx", "task": "detect" if config.task == "track" else config.task, "conf": conf,
        "threads": cpu_threads(config.threads),
        "options": {"weights_state": state, "max_det": options.max_det, "warmup": False}})
    for attempt in (1, 2):
        with onnx_file(model, state, version, source, config.imgsz, cache_dir, _exporter()) as (path, cached):
            served = quantize_int8(path, config.imgsz) if options.precision == "int8" else path
            try:
                runner = OnnxRunner(inner.model_copy(update={"weights": str(served)}))
            except ModelLoadError:
                if not cached or attempt == 2:
                    raise
                log.warning("model %s: cached ONNX file %s does not load; exporting it again", config.name, served)
                discard(path)
                discard(int8_path(path))
                continue
        log.info("model %s: ONNX Runtime serves %s (%s)", config.name, path if source else "a temporary export",
                 "cached" if cached else "exported now")
        return runner
    raise AssertionError("unreachable")  # pragma: no cover
