"""Newest-frame-wins slots: at most one pending frame per camera.

Pure logic (no I/O, no clock reads): times are passed in. A frame replaced by a
newer one from the same camera is *superseded*; a frame whose capture time is
older than ``max_age_ns`` when a batch is assembled is *stale*. Both are dropped
and counted, never queued, so memory is bounded by the number of cameras.

Units: ``received_ns`` is ``time.monotonic_ns()`` at receipt (for queue time);
``FrameMeta.ts`` and ``now_wall_ns`` are Unix nanoseconds (for age).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.headers import FrameMeta


@dataclass(frozen=True, slots=True)
class PendingFrame:
    """A received frame waiting for the model."""

    meta: FrameMeta
    jpeg: bytes
    received_ns: int


@dataclass(frozen=True, slots=True)
class Taken:
    """Result of :meth:`LatestFrameSlots.take`: frames to run, and stale ones dropped."""

    frames: list[PendingFrame] = field(default_factory=list)
    stale: list[PendingFrame] = field(default_factory=list)


class LatestFrameSlots:
    """One slot per camera holding only its newest frame.

    Invariant: ``len(self) <= number of cameras``. Counters only grow.
    """

    def __init__(self) -> None:
        self._slots: dict[str, PendingFrame] = {}
        self.superseded = 0
        self.stale = 0
        self.out_of_order = 0

    def __len__(self) -> int:
        return len(self._slots)

    def put(self, frame: PendingFrame) -> PendingFrame | None:
        """Store ``frame``; return the frame it dropped (older pending, or itself if older).

        A frame with a lower ``seq`` than the pending one of the same camera
        (reordering after a reconnect of the publisher is possible) is dropped
        in favour of the newer pending frame.
        """
        camera = frame.meta.camera
        old = self._slots.get(camera)
        if old is not None and frame.meta.seq < old.meta.seq and frame.meta.ts <= old.meta.ts:
            self.out_of_order += 1
            return frame
        self._slots[camera] = frame
        if old is not None:
            self.superseded += 1
        return old

    def oldest_received_ns(self) -> int | None:
        """Receipt time of the longest-waiting pending frame, or None when empty."""
        if not self._slots:
            return None
        return min(f.received_ns for f in self._slots.values())

    def take(self, max_frames: int, now_wall_ns: int, max_age_ns: int) -> Taken:
        """Remove and return up to ``max_frames`` frames, longest-waiting first.

        Stale frames (capture ``ts`` more than ``max_age_ns`` before ``now_wall_ns``)
        are removed and returned separately; they never count against ``max_frames``.
        Frames left behind stay pending for the next batch.
        """
        taken = Taken()
        for frame in sorted(self._slots.values(), key=lambda f: f.received_ns):
            if now_wall_ns - frame.meta.ts > max_age_ns:
                taken.stale.append(frame)
                del self._slots[frame.meta.camera]
            elif len(taken.frames) < max_frames:
                taken.frames.append(frame)
                del self._slots[frame.meta.camera]
        self.stale += len(taken.stale)
        return taken

    def discard(self, camera: str) -> PendingFrame | None:
        """Forget a camera's pending frame (e.g. the camera moved to another replica)."""
        return self._slots.pop(camera, None)

    def cameras(self) -> list[str]:
        return list(self._slots)
