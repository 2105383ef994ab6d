"""Live state and counters of one camera, shared by its worker thread and the event loop.

One log line per state change (never per frame); reasons are scrubbed of
credentials before they are stored, so the heartbeat, ``/readyz`` and logs are safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from courtside_contracts.status import CameraState, ServiceState

from courtside.kit.rate import RateMeter
from courtside.logs import scrub

log = logging.getLogger(__name__)

#: Longest reason string kept (a hostile server's error text cannot bloat heartbeats).
MAX_REASON = 200
#: Camera states that make the service ``degraded`` (it stays ready: see :func:`cameras_health`).
TROUBLE = frozenset({CameraState.FAILED, CameraState.STALLED, CameraState.RECONNECTING})


@dataclass(frozen=True, slots=True)
class CameraSnapshot:
    """A consistent copy of a camera's state for heartbeats, /readyz and metrics."""

    camera: str
    source: str
    state: CameraState
    reason: str
    fps: float
    frames: int
    dropped: int
    skipped: int
    reconnects: int
    decode_errors: int
    since_frame_s: float | None
    last_error: str

    def heartbeat_entry(self) -> dict[str, Any]:
        """The per-camera object of the ingest heartbeat (courtside_contracts.status.Heartbeat).

        The contract's fields (state, reason, fps, frames, dropped) plus
        ``reconnects`` and ``last_error``, which outlive a brief outage that a
        2 s heartbeat would otherwise never show.
        """
        return {"state": self.state.value, "reason": self.reason, "fps": round(self.fps, 2),
                "frames": self.frames, "dropped": self.dropped, "reconnects": self.reconnects,
                "last_error": self.last_error}


class CameraStatus:
    """Thread-safe state machine plus counters for one camera.

    ``frames``: published frames; ``dropped``: frames lost after decoding (hand-off
    queue full, publish failed); ``skipped``: frames left out by the fps cap.
    """

    def __init__(self, camera: str, source: str, on_change: Callable[[], None] | None = None) -> None:
        self.camera = camera
        self.source = source
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = CameraState.CONNECTING
        self._reason = "starting"
        self._meter = RateMeter()
        self._last_frame: float | None = None
        self.frames = 0
        self.dropped = 0
        self.skipped = 0
        self.reconnects = 0
        self.decode_errors = 0
        self.last_error = ""

    @property
    def state(self) -> CameraState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    def set_state(self, state: CameraState, reason: str = "", *,
                  only_from: CameraState | None = None) -> None:
        """Move to ``state`` (from ``only_from`` only, when given); logs one line per change."""
        reason = scrub(reason)[:MAX_REASON]
        with self._lock:
            if state == self._state and reason == self._reason:
                return
            if only_from is not None and self._state != only_from:
                return
            previous = self._state
            self._state, self._reason = state, reason
            if state == CameraState.RECONNECTING and previous != CameraState.RECONNECTING:
                self.reconnects += 1
            if state in (CameraState.RECONNECTING, CameraState.FAILED, CameraState.STALLED):
                self.last_error = reason
        level = logging.WARNING if state in (CameraState.FAILED, CameraState.STALLED,
                                             CameraState.RECONNECTING) else logging.INFO
        log.log(level, "%s: %s -> %s%s", self.camera, previous.value, state.value,
                f" ({reason})" if reason else "")
        if self._on_change is not None:
            self._on_change()

    def frame_encoded(self, now: float) -> None:
        """A frame left the worker (monotonic seconds). Makes the camera ``live``."""
        self._last_frame = now
        if self._state != CameraState.LIVE:
            self.set_state(CameraState.LIVE, "")

    def frames_published(self, count: int, now: float) -> None:
        """``count`` frames were published at ``now`` (one call per publishing pass)."""
        with self._lock:
            self.frames += count
            self._meter.mark(now, count)

    def count_dropped(self, n: int = 1) -> None:
        with self._lock:
            self.dropped += n

    def count_skipped(self) -> None:
        self.skipped += 1  # only the worker thread writes it

    def count_decode_error(self) -> None:
        self.decode_errors += 1  # only the worker thread writes it

    def check_stall(self, now: float, after_s: float) -> None:
        """``live`` -> ``stalled`` when no frame came for ``after_s`` seconds (event loop)."""
        last = self._last_frame
        if self._state == CameraState.LIVE and last is not None and now - last > after_s:
            self.set_state(CameraState.STALLED, f"no frame for {now - last:.1f} s",
                           only_from=CameraState.LIVE)

    def snapshot(self, now: float | None = None) -> CameraSnapshot:
        now = time.monotonic() if now is None else now
        with self._lock:
            last = self._last_frame
            return CameraSnapshot(
                camera=self.camera, source=self.source, state=self._state, reason=self._reason,
                fps=self._meter.rate(now), frames=self.frames, dropped=self.dropped,
                skipped=self.skipped, reconnects=self.reconnects, decode_errors=self.decode_errors,
                since_frame_s=None if last is None else now - last, last_error=self.last_error,
            )


def cameras_health(cameras: Iterable[CameraSnapshot]) -> ServiceState:
    """Ingest's own health from its cameras: ``degraded`` (a camera in trouble) > ``starting``
    (a camera still connecting for the first time) > ``ready``.

    WHIP cameras waiting for a publisher count as ready: nobody pushing is normal. The kit
    adds NATS and the lifecycle (:func:`courtside.kit.readiness.assess`); cameras never decide
    readiness: one dead camera must not take the whole instance out of a load balancer.
    """
    snaps = list(cameras)
    if any(s.state in TROUBLE for s in snaps):
        return ServiceState.DEGRADED
    if any(s.state == CameraState.CONNECTING and s.source != "whip" for s in snaps):
        return ServiceState.STARTING
    return ServiceState.READY
