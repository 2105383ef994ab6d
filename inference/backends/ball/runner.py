"""The ``ball`` backend: BallNet + tracker behind the Runner interface, natively or in ONNX Runtime.

Stateful: each camera's frame history and track live in the model thread
(:class:`~inference.backends.ball.pipeline.BallPipeline`), so each camera is served
by one replica and :meth:`reset` forgets it on handover. Output per frame: the
contract's ``ball`` (pixels of the image passed in; ``visible`` False once the
tracker has lost it, at its last position), no boxes.

Timestamps: the runner interface hands over images without their capture time, so
the runner stamps each frame with the model thread's monotonic clock on arrival
(``clock``; frames of one camera strictly increasing), a proxy for capture time that
queueing jitter blurs: the seam should hand over ``FrameMeta.ts``. The pipeline itself takes any
timestamps (evaluation and the benchmark pass the true ones).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from courtside_contracts.annotations import Ball

from courtside.config import ModelConfig
from inference.backends.ball.export import cached_onnx, config_of, file_digest, onnx_forward, onnx_metadata
from inference.backends.ball.model import SIZES, BallNetConfig
from inference.backends.ball.options import BallOptions
from inference.backends.ball.pipeline import BallPipeline, Forward
from inference.backends.ball.tracker import Estimate, TrackerParams
from inference.backends.base import FrameResult, Runner, Weights
from inference.backends.options import parse_options
from inference.errors import ModelLoadError

log = logging.getLogger(__name__)
ARCH_PREFIX = "arch:"
#: ``weights: shipped:small`` -> the weights committed with the repository (the demo court's model).
SHIPPED_PREFIX = "shipped:"
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
#: Frames of one camera are at least this far apart (seconds) on the runner's clock.
MIN_GAP_S = 1e-3


def _trained_on(meta: dict[str, Any]) -> str | None:
    what = meta.get("trained_on")
    if not what:
        return None
    data = meta.get("data") or {}
    detail = ", ".join(str(data[k]) for k in ("simulator", "train_seeds") if k in data)
    return f"{what}; {detail}" if detail else str(what)


class BallRunner(Runner):
    name = "ball"
    stateful = True

    def __init__(self, config: ModelConfig) -> None:
        self.options = parse_options(BallOptions, config)
        if config.task != "track":
            raise ModelLoadError(f"model {config.name}: the ball backend tracks (task: track), got {config.task}")
        self.device = config.device
        threads = config.threads
        forward, cfg, meta, digest = self._load(config, threads)
        self.cfg: BallNetConfig = cfg
        self.input_size = max(cfg.width, cfg.height)
        params = TrackerParams(score=self.options.score, max_speed_px_s=self.options.max_speed_px_s,
                               jump_score=self.options.jump_score, bridge_s=self.options.bridge_s)
        self.pipeline = BallPipeline(forward, cfg, params, self.options.candidates)
        self.weights: Weights = "trained" if meta.get("trained_on") else "untrained"
        self.trained_on = _trained_on(meta)
        self.model_name = f"ballnet-{cfg.name}"
        self.version = f"ballnet-{cfg.name}-{digest}@{self.options.runtime}"
        #: Seconds, increasing: the arrival clock that stamps frames (injectable for tests).
        self.clock: Callable[[], float] = time.monotonic
        self._clock: dict[str, float] = {}
        self._seen: dict[str, tuple[float, float]] = {}
        log.info("model %s loaded: %s", config.name, self.describe().summary())

    def _load(self, config: ModelConfig, threads: int | None) -> tuple[Forward, BallNetConfig, dict[str, Any], str]:
        spec, runtime = config.weights, self.options.runtime
        try:
            if spec.startswith(ARCH_PREFIX):
                size = spec.removeprefix(ARCH_PREFIX)
                if size not in SIZES:
                    raise ModelLoadError(f"model {config.name}: unknown architecture {spec!r} "
                                         f"(known: {', '.join(ARCH_PREFIX + s for s in SIZES)})")
                log.warning("model %s: UNTRAINED ball architecture %s (random weights): its output means nothing",
                            config.name, size)
                return self._from_net(self._untrained(size), {}, "untrained", runtime, threads)
            path = (SHIPPED_DIR / f"ball-{spec.removeprefix(SHIPPED_PREFIX)}.pt" if spec.startswith(SHIPPED_PREFIX)
                    else Path(spec).expanduser())
            if not path.is_file():
                raise ModelLoadError(f"model {config.name}: ball weights {path} not found "
                                     f"(train them with `courtside train ball`, or use arch:small)")
            if path.suffix == ".onnx":
                if runtime != "onnx":
                    raise ModelLoadError(f"model {config.name}: {path} is ONNX: set options.runtime: onnx")
                record = onnx_metadata(path)
                return onnx_forward(path, threads, self.device), config_of(record), dict(record["meta"]), \
                    file_digest(path)
            from inference.backends.ball import weights

            net, meta = weights.load(path, self.device)
            if runtime == "onnx":
                return onnx_forward(cached_onnx(path), threads, self.device), net.config, meta, file_digest(path)
            return self._from_net(net, meta, file_digest(path), runtime, threads)
        except (ValueError, OSError) as exc:
            raise ModelLoadError(f"model {config.name}: cannot load ball weights {spec}: {exc}") from None

    @staticmethod
    def _untrained(size: str) -> Any:
        from inference.backends.ball.model import BallNet

        return BallNet(SIZES[size]).eval()

    def _from_net(self, net: Any, meta: dict[str, Any], digest: str, runtime: str, threads: int | None
                  ) -> tuple[Forward, BallNetConfig, dict[str, Any], str]:
        import torch

        from inference.backends.ball import weights

        if threads:
            torch.set_num_threads(threads)
        if runtime == "onnx":
            import tempfile

            from inference.backends.ball.export import export_onnx

            with tempfile.TemporaryDirectory() as tmp:
                pt = Path(tmp) / "untrained.pt"
                weights.save(pt, net, meta)
                onnx_path = export_onnx(pt, Path(tmp) / "untrained.onnx")
                forward = onnx_forward(onnx_path, threads, self.device)
            return forward, net.config, meta, digest
        return weights.torch_forward(net.to(self.device), self.device), net.config, meta, digest

    def _stamp(self, camera: str) -> float:
        now = max(self.clock(), self._clock.get(camera, -math.inf) + MIN_GAP_S)
        self._clock[camera] = now
        return now

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> Sequence[FrameResult]:
        cams = cameras if cameras is not None else ["default"] * len(images)
        items = [(cam, image, self._stamp(cam)) for image, cam in zip(images, cams, strict=True)]
        return self._results(items)

    def infer_at(self, images: list[np.ndarray], cameras: list[str], ts_s: list[float]) -> list[FrameResult]:
        """As :meth:`infer` with the frames' own timestamps (seconds); for evaluation and benchmarks."""
        return self._results(list(zip(cameras, images, ts_s, strict=True)))

    def _results(self, items: list[tuple[str, np.ndarray, float]]) -> list[FrameResult]:
        return [self._result(cam, image, est) for (cam, image, _), est in zip(items, self.pipeline.step(items),
                                                                           strict=True)]

    def _result(self, camera: str, image: np.ndarray, est: Estimate) -> FrameResult:
        """The estimate in pixels of ``image``; a lost ball is reported not visible at its last position."""
        score = float(min(1.0, max(0.0, est.score)))
        if not (est.visible and math.isfinite(est.x)):
            last = self._seen.get(camera)
            return FrameResult() if last is None else FrameResult(ball=Ball(last[0], last[1], score, False))
        h, w = image.shape[:2]
        sx, sy = w / self.cfg.width, h / self.cfg.height
        x, y = float((est.x + 0.5) * sx - 0.5), float((est.y + 0.5) * sy - 0.5)
        self._seen[camera] = (x, y)
        return FrameResult(ball=Ball(x, y, score, True))

    def reset(self, camera: str) -> None:
        self.pipeline.reset(camera)
        self._clock.pop(camera, None)
        self._seen.pop(camera, None)

    def warmup(self) -> None:
        blank = np.zeros((1, self.cfg.in_channels, self.cfg.height, self.cfg.width), np.float32)
        self.pipeline.forward(blank)
