"""The serving path without I/O: per-camera history -> network -> candidates -> tracker.

:class:`BallPipeline` is used by the runner, by evaluation and by the benchmark,
so all three see the same preprocessing and the same tracker. ``forward`` is the
network (torch or ONNX Runtime) as a function of a float32 ``(B, C, H, W)`` batch
returning ``(B, 3, h, w)``. Each camera's state (its frame history and track) is
kept apart; :meth:`reset` forgets one camera. Positions are input pixels.

The batch is written into one buffer that the pipeline keeps and reuses, so
``forward`` must not hold on to its argument after it returns (torch and ONNX
Runtime both return new arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from inference.backends.ball import peaks
from inference.backends.ball.frames import F32, U8, FrameHistory, prepare
from inference.backends.ball.model import BallNetConfig
from inference.backends.ball.tracker import BallTracker, Estimate, TrackerParams

Forward = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


@dataclass(slots=True)
class CameraState:
    history: FrameHistory
    tracker: BallTracker
    last: Estimate | None = None
    raw: list[peaks.Candidate] = field(default_factory=list)


class BallPipeline:
    def __init__(self, forward: Forward, cfg: BallNetConfig, params: TrackerParams | None = None,
                 candidates: int = 3) -> None:
        self.forward, self.cfg = forward, cfg
        self.params = params or TrackerParams()
        self.k = candidates
        self._cameras: dict[str, CameraState] = {}
        self._batch: F32 = np.empty((0, cfg.in_channels, cfg.height, cfg.width), np.float32)

    def state(self, camera: str) -> CameraState:
        st = self._cameras.get(camera)
        if st is None:
            st = self._cameras[camera] = CameraState(FrameHistory.empty(self.cfg.frames), BallTracker(
                self.params, frame_px=(self.cfg.width, self.cfg.height)))
        return st

    def reset(self, camera: str) -> None:
        self._cameras.pop(camera, None)

    def step(self, items: list[tuple[str, U8, float]]) -> list[Estimate]:
        """``(camera, BGR frame, ts seconds)`` in arrival order -> one estimate each.

        A repeated frame (same content or a timestamp not after the last) gets the
        previous estimate; the others run through the network as one batch. Two
        frames of one camera in a batch are run in order (the second sees the first).
        """
        results: list[Estimate | None] = [None] * len(items)
        pending: list[tuple[int, CameraState, float]] = []
        if len(self._batch) < len(items):
            self._batch = np.empty((len(items), *self._batch.shape[1:]), np.float32)
        for n, (camera, image, ts) in enumerate(items):
            st = self.state(camera)
            if any(p[1] is st for p in pending):  # the same camera again: finish the batch first
                self._run(pending, results)
                pending = []
            frame = prepare(image, self.cfg.width, self.cfg.height)
            if not st.history.push(frame, ts):
                results[n] = st.last if st.last is not None else Estimate(np.nan, np.nan, 0.0, False)
                continue
            st.history.write_input(self._batch[len(pending)])
            pending.append((n, st, ts))
        self._run(pending, results)
        return [r if r is not None else Estimate(np.nan, np.nan, 0.0, False) for r in results]

    def _run(self, pending: list[tuple[int, CameraState, float]], results: list[Estimate | None]) -> None:
        if not pending:
            return
        out = self.forward(self._batch[:len(pending)])
        for (n, st, ts), o in zip(pending, out, strict=True):
            st.raw = peaks.candidates(o, self.cfg.stride, self.k)
            st.last = st.tracker.update(st.raw, ts)
            results[n] = st.last
