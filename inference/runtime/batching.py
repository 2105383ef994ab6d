"""When to start a micro-batch: pure timing policy, no clock reads.

A batch starts when it is full or when its oldest frame has waited ``max_wait_ns``.
"Full" means ``min(batch, active_cameras)``: with newest-frame-wins slots each
camera contributes at most one frame, so once every active camera has a frame
pending, waiting longer cannot add one - it only adds latency.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """``max_frames`` per batch; ``max_wait_ns`` nanoseconds to wait for it to fill."""

    max_frames: int
    max_wait_ns: int

    def target(self, active_cameras: int) -> int:
        """How many pending frames make a batch full."""
        return max(1, min(self.max_frames, active_cameras))

    def wait_ns(self, pending: int, oldest_received_ns: int | None, active_cameras: int,
                now_ns: int) -> int | None:
        """Nanoseconds to wait before starting a batch: 0 = now, None = nothing pending."""
        if pending == 0 or oldest_received_ns is None:
            return None
        if pending >= self.target(active_cameras):
            return 0
        return max(0, oldest_received_ns + self.max_wait_ns - now_ns)


class ActiveCameras:
    """Cameras that sent a frame within the last ``window_ns`` (monotonic ns)."""

    def __init__(self, window_ns: int) -> None:
        self._window_ns = window_ns
        self._last: dict[str, int] = {}

    def seen(self, camera: str, now_ns: int) -> None:
        self._last[camera] = now_ns

    def count(self, now_ns: int) -> int:
        cutoff = now_ns - self._window_ns
        for camera in [c for c, t in self._last.items() if t < cutoff]:
            del self._last[camera]
        return len(self._last)

    def names(self, now_ns: int) -> list[str]:
        self.count(now_ns)
        return sorted(self._last)


class Ewma:
    """Exponentially weighted mean of durations (ns); None until the first sample."""

    def __init__(self, alpha: float = 0.2) -> None:
        self._alpha = alpha
        self.value: float | None = None

    def add(self, sample: float) -> None:
        self.value = sample if self.value is None else self.value + self._alpha * (sample - self.value)


def decode_ahead_wait_ns(now_ns: int, infer_started_ns: int | None, est_infer_ns: float | None,
                         est_decode_ns: float | None, margin_ns: int = 1_000_000) -> int:
    """Nanoseconds until the next batch should be taken and decoded (0 = now).

    Decoding runs in its own thread while the model runs, timed to finish when the
    model is expected to become free: the CPU otherwise idle in the model's serial
    phases hides the JPEG cost, and frames are taken as late as possible (newest
    frame, lowest latency). Model idle -> now; no estimates yet -> wait for the model.
    """
    if infer_started_ns is None:
        return 0
    if est_infer_ns is None or est_decode_ns is None:
        return max(0, infer_started_ns + 10**12 - now_ns)  # until the model is free (woken then)
    start_at = infer_started_ns + int(est_infer_ns - est_decode_ns) - margin_ns
    return max(0, start_at - now_ns)
