"""Preprocessing and the per-camera frame history (pure numpy/cv2; no torch).

Every frame is resized to the model's input (``width`` x ``height`` pixels, BGR ->
RGB, uint8) once, when it arrives, and turned into its three 0..1 float32 planes
once, the first time the network needs it; the network's input is then copied
from the history alone, newest first, so a frame later than the current one can
never reach it. A frame identical to the newest one (a camera or ingest
repeating a frame) is not added twice: its result is the previous frame's.
Timestamps are seconds (any origin, increasing).

Cost (issue 13, 2 cores): building the input used to stack, transpose and cast
the whole window every frame (13-27 ms at 512 x 288 on the loaded 2 cores); now each
frame is cast once into planes (~0.3 ms) and the window is a plane copy (~1 ms).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from inference.backends.ball.model import AGE_CLIP, AGE_SCALE

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
#: uint8 -> 0..1, multiplied in float32 (the value training has always seen).
SCALE = np.float32(1 / 255)


def prepare(image_bgr: U8, width: int, height: int) -> U8:
    """A BGR frame of any size -> the model's RGB input size (area resampling keeps a small ball)."""
    h, w = image_bgr.shape[:2]
    if (w, h) != (width, height):
        interp = cv2.INTER_AREA if w >= width else cv2.INTER_LINEAR
        image_bgr = np.asarray(cv2.resize(image_bgr, (width, height), interpolation=interp), np.uint8)
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(image_bgr), cv2.COLOR_BGR2RGB), np.uint8)


def age_value(age_s: float) -> float:
    """A past frame's age (seconds) -> its age plane's value (see :mod:`~inference.backends.ball.model`)."""
    return min(AGE_CLIP, max(0.0, age_s * AGE_SCALE))


def write_planes(frame: U8, out: F32) -> F32:
    """An RGB uint8 ``(H, W, 3)`` frame (any strides) -> its ``(3, H, W)`` 0..1 planes, written into ``out``."""
    for c in range(3):
        np.multiply(frame[..., c], SCALE, out=out[c], dtype=np.float32)
    return out


def network_input(frames: Sequence[U8], ages_s: Sequence[float], out: F32 | None = None) -> F32:
    """``frames`` newest first (RGB uint8, H x W x 3), ``ages_s`` of the past ones -> (C, H, W) float32.

    Written into ``out`` (C-contiguous, ``3 F + F - 1`` planes) when given, else a new array.
    """
    h, w = frames[0].shape[:2]
    if out is None:
        out = np.empty((3 * len(frames) + len(ages_s), h, w), np.float32)
    for k, frame in enumerate(frames):
        write_planes(frame, out[3 * k:3 * k + 3])
    _write_ages(ages_s, out[3 * len(frames):])
    return out


def _write_ages(ages_s: Sequence[float], out: F32) -> None:
    for k, age in enumerate(ages_s):
        out[k].fill(age_value(age))


@dataclass(slots=True)
class _Entry:
    frame: U8
    ts_s: float
    planes: F32 | None = None  # (3, H, W) 0..1, made on first use


@dataclass(slots=True)
class FrameHistory:
    """The last ``frames`` distinct prepared frames of one camera with their timestamps."""

    frames: int
    _items: deque[_Entry]
    _spare: list[F32] = field(default_factory=list)  # planes of evicted frames, reused

    @classmethod
    def empty(cls, frames: int) -> FrameHistory:
        return cls(frames, deque(maxlen=frames))

    def push(self, frame: U8, ts_s: float) -> bool:
        """Add a prepared frame; False (and nothing added) when it repeats the newest one."""
        if self._items:
            last = self._items[-1]
            if ts_s <= last.ts_s or np.array_equal(last.frame, frame):
                return False
            if len(self._items) == self.frames:
                evicted = self._items[0].planes
                if evicted is not None:
                    self._spare.append(evicted)
        self._items.append(_Entry(frame, ts_s))
        return True

    def window(self) -> tuple[list[U8], list[float]]:
        """Frames newest first (the oldest repeated while fewer exist) and the ages in seconds of
        the past ones; the history must not be empty."""
        items = self._window()
        now = items[0].ts_s
        return [e.frame for e in items], [now - e.ts_s for e in items[1:]]

    def write_input(self, out: F32) -> F32:
        """The network input of :meth:`window` (as :func:`network_input` makes it) written into
        ``out`` ``(C, H, W)``, each frame's planes computed once while it stays in the history."""
        items = self._window()
        for k, entry in enumerate(items):
            if entry.planes is None:
                h, w = entry.frame.shape[:2]
                spare = self._spare.pop() if self._spare else None
                if spare is None or spare.shape != (3, h, w):
                    spare = np.empty((3, h, w), np.float32)
                entry.planes = write_planes(entry.frame, spare)
            out[3 * k:3 * k + 3] = entry.planes
        now = items[0].ts_s
        _write_ages([now - e.ts_s for e in items[1:]], out[3 * len(items):])
        return out

    def _window(self) -> list[_Entry]:
        items = list(self._items)[::-1]
        while len(items) < self.frames:
            items.append(items[-1])
        return items

    def __len__(self) -> int:
        return len(self._items)
