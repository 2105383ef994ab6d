"""The Ultralytics runner: YOLO detect / pose / track behind the Runner interface.

Batches go to ``model.predict`` as one list. Images of different sizes are
predicted in separate calls (grouped by shape) so that a frame's result never
depends on what else shared its batch (Ultralytics pads a mixed batch to a
square, a same-shape batch only to the stride).

``options`` understood (ModelConfig.options): ``tracker`` (default
``bytetrack.yaml``), ``weights_state`` ("trained"/"untrained", overrides a loaded
checkpoint's metadata, never the fallback), ``max_det`` (default 300),
``warmup`` (default True: one blank inference at load, so the first frame is not
slow).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from courtside.config import ModelConfig
from inference.backends.base import Weights
from inference.backends.yolo.env import configure_offline
from inference.backends.yolo.weights import checkpoint_state, fallback_yaml, is_architecture
from inference.errors import ModelLoadError

configure_offline()

import torch  # noqa: E402 - after the offline environment
import ultralytics  # noqa: E402
import ultralytics.utils.torch_utils  # noqa: E402
from ultralytics import YOLO  # type: ignore[attr-defined]  # noqa: E402

from inference.backends.yolo.convert import objects_from_result  # noqa: E402
from inference.backends.yolo.tracking import TrackerBank  # noqa: E402

log = logging.getLogger(__name__)
OPTIONS = frozenset({"tracker", "weights_state", "max_det", "warmup"})
_TASKS = {"detect": "detect", "track": "detect", "pose": "pose"}


def cpu_threads(requested: int | None) -> int:
    """Threads for torch: the configured number, else the CPUs this process may use."""
    if requested:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:10]


def load_yolo(weights: str, options: dict[str, Any]) -> tuple[Any, Weights, str]:
    """Load per the policy of :mod:`inference.backends.yolo.weights`: (model, state, version)."""
    override = options.get("weights_state")
    if override not in (None, "trained", "untrained"):
        raise ModelLoadError(f"options.weights_state must be 'trained' or 'untrained', got {override!r}")
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
    digest = _file_digest(Path(str(ckpt_path))) if ckpt_path else "nofile"
    if state == "untrained":
        log.warning("checkpoint %s records no training run: annotations are marked untrained "
                    "(set options.weights_state if this is wrong)", weights)
    return model, state, f"{Path(weights).stem}-{digest}"


def _build_untrained(yaml_name: str) -> tuple[Any, Weights, str]:
    try:
        model = YOLO(yaml_name)
    except (OSError, FileNotFoundError, RuntimeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot build the architecture {yaml_name}: {exc}") from None
    return model, "untrained", f"{Path(yaml_name).stem}-untrained"


class UltralyticsRunner:
    """A loaded YOLO model. ``stateful`` (per-camera trackers) when ``task == 'track'``."""

    name = "ultralytics"

    def __init__(self, config: ModelConfig) -> None:
        unknown = set(config.options) - OPTIONS
        if unknown:
            raise ModelLoadError(f"model {config.name}: unknown ultralytics options {sorted(unknown)} "
                                 f"(known: {sorted(OPTIONS)})")
        self.config = config
        threads = cpu_threads(config.threads)
        torch.set_num_threads(threads)
        # Ultralytics' select_device() resets torch to its NUM_THREADS (cpu_count - 1, i.e. 1 on
        # 2 cores) at every predictor set-up, per-camera trackers included: make it ours.
        ultralytics.utils.torch_utils.NUM_THREADS = threads  # type: ignore[attr-defined]
        self.model, self.weights, version = load_yolo(config.weights, config.options)
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
        self._trackers = TrackerBank(config.options.get("tracker", "bytetrack.yaml")) if self.stateful else None
        conf = min(config.conf, 0.1) if self.stateful else config.conf  # trackers use low-score boxes
        self._predict_args: dict[str, Any] = {
            "imgsz": config.imgsz, "conf": conf, "iou": config.iou, "classes": config.classes,
            "device": config.device, "verbose": False, "max_det": int(config.options.get("max_det", 300)),
        }
        if self.half:
            self._predict_args["quantize"] = "fp16"  # Ultralytics 8.4's name for half=True
        if config.options.get("warmup", True):
            self.predict([np.zeros((config.imgsz, config.imgsz, 3), np.uint8)])
        log.info("model %s loaded: %s (%s, %s) on %s, %d threads", config.name, self.version,
                 config.task, self.weights, self.device, torch.get_num_threads())

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
        results = self.predict(images)
        if self._trackers is not None:
            if cameras is None or len(cameras) != len(images):
                raise ValueError("tracking needs the camera of every image")
            results = [self._trackers.update(cam, res) for cam, res in zip(cameras, results, strict=True)]
        return [objects_from_result(res) for res in results]

    def reset(self, camera: str) -> None:
        if self._trackers is not None:
            self._trackers.reset(camera)
