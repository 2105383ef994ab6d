"""A named thread that resizes and JPEG-encodes frames produced on the event loop (WHIP).

Frames arrive from aiortc's track on the loop; encoding them there would stall
every other camera, so they cross to this thread through a 2-deep drop-oldest
queue (drops counted on the camera) and leave through the camera's
:class:`~ingest.handoff.Handoff` like frames of any other source.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import av

from courtside.kit.queue import SharedDropOldestQueue
from ingest.camera_status import CameraStatus
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame, JpegEncoder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A decoded frame with its capture time (Unix ns) and source pts (seconds)."""

    frame: av.VideoFrame
    ts_ns: int
    pts: float | None


class EncodeWorker:
    """Encodes submitted frames in thread ``name`` until :meth:`stop`."""

    def __init__(self, name: str, encoder: JpegEncoder, handoff: Handoff[EncodedFrame],
                 status: CameraStatus, depth: int = 2) -> None:
        self._encoder = encoder
        self._handoff = handoff
        self._status = status
        self._queue: SharedDropOldestQueue[RawFrame] = SharedDropOldestQueue(depth)
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, raw: RawFrame) -> None:
        """From the event loop; never blocks. A full queue drops its oldest frame."""
        if self._queue.put(raw):
            self._status.count_dropped()
        with self._wake:
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and not len(self._queue):
                    self._wake.wait()
                if self._stopped:
                    return
            raw = self._queue.pop()
            if raw is None:
                continue
            try:
                encoded = self._encoder.encode(raw.frame, raw.ts_ns, raw.pts)
            except Exception:  # a bad frame must not end the session's encoder
                log.exception("%s: cannot encode a frame", self._status.camera)
                self._status.count_dropped()
                continue
            self._status.frame_encoded(time.monotonic())
            if self._handoff.put(encoded):
                self._status.count_dropped()
