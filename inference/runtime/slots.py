"""Newest-frame-wins slots: at most one pending frame per camera.

Pure logic (no I/O, no clock reads): times are passed in. A frame replaced by a
newer one from the same camera is *superseded*; a frame whose capture time is
older than ``max_age_ns`` on arrival, or that would be by the time the model can
start on it, is *stale*. Both are dropped and counted, never queued or decoded, so
memory is bounded by the number of cameras and no JPEG work is spent on a frame that
will not run.

Units: ``received_ns`` is ``time.monotonic_ns()`` at receipt (for queue time);
``FrameMeta.ts`` and ``now_wall_ns`` are Unix nanoseconds (for age).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from courtside_contracts.headers import FrameMeta


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

    def offer(self, frame: PendingFrame, now_wall_ns: int, max_age_ns: int) -> PendingFrame | None:
        """:meth:`put`, unless ``frame`` is already stale on arrival (then it is counted and returned).

        The cut before the slot: a frame delayed upstream (ingest, NATS, the client buffer)
        past ``max_age_ns`` never displaces the camera's pending frame.
        """
        if is_stale(frame.meta.ts, now_wall_ns, max_age_ns):
            self.stale += 1
            return frame
        return self.put(frame)

    def superseded_unseen(self) -> None:
        """Count a frame dropped before it reached its slot because a newer frame of its camera
        already followed it (see :class:`inference.runtime.intake.NewestInBuffer`)."""
        self.superseded += 1

    def oldest_received_ns(self) -> int | None:
        """Receipt time of the longest-waiting pending frame, or None when empty."""
        if not self._slots:
            return None
        return min(f.received_ns for f in self._slots.values())

    def take(self, max_frames: int, now_wall_ns: int, max_age_ns: int, start_in_ns: int = 0) -> Taken:
        """Remove and return up to ``max_frames`` frames, longest-waiting first.

        Stale frames are removed and returned separately; they never count against
        ``max_frames``. A frame is stale when it will be older than ``max_age_ns`` when
        the model can start on it, ``start_in_ns`` from now (the caller's estimate of
        decode plus the rest of the batch in flight; the model's own time is not
        counted, so a model slower than ``max_age_ns`` still runs). Frames left behind
        stay pending for the next batch.
        """
        taken = Taken()
        for frame in sorted(self._slots.values(), key=lambda f: f.received_ns):
            if is_stale(frame.meta.ts, now_wall_ns + max(0, start_in_ns), max_age_ns):
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


def is_stale(ts_ns: int, now_wall_ns: int, max_age_ns: int) -> bool:
    """Whether a frame captured at ``ts_ns`` is older than ``max_age_ns`` at ``now_wall_ns``
    (all Unix nanoseconds)."""
    return now_wall_ns - ts_ns > max_age_ns
