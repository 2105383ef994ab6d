"""The event-loop side of a camera: stamp each encoded frame and publish it on ``frames.<camera>``.

``seq`` is assigned here, at publish time, so it increases by exactly one per
published frame for the whole life of the process (across reconnects, file
loops and WHIP sessions); a gap seen by a consumer therefore means a loss
between NATS and that consumer.
"""

from __future__ import annotations

import logging
import time

from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from contracts.headers import FrameMeta
from contracts.subjects import frames_subject
from ingest.camera_status import CameraStatus
from ingest.handoff import Handoff
from ingest.jpeg_encoder import EncodedFrame

log = logging.getLogger(__name__)


class FramePublisher:
    """Publishes one camera's frames from its hand-off queue until cancelled."""

    def __init__(self, nc: NATS, camera: str, handoff: Handoff[EncodedFrame], status: CameraStatus,
                 first_seq: int = 1) -> None:
        self._nc = nc
        self._camera = camera
        self._subject = frames_subject(camera)
        self._handoff = handoff
        self._status = status
        self.next_seq = first_seq
        self._failing = False

    async def run(self) -> None:
        while True:
            frame = await self._handoff.get()
            await self.publish(frame)

    async def publish(self, frame: EncodedFrame) -> None:
        meta = FrameMeta(camera=self._camera, seq=self.next_seq, ts=frame.ts_ns,
                         width=frame.width, height=frame.height, pts=frame.pts)
        try:
            await self._nc.publish(self._subject, frame.jpeg, headers=meta.to_headers())
        except NatsError as exc:
            self._status.count_dropped()
            if not self._failing:
                log.warning("%s: publish failed, frames are dropped until NATS is back: %s",
                            self._camera, exc)
                self._failing = True
            return
        if self._failing:
            log.info("%s: publishing again", self._camera)
            self._failing = False
        self.next_seq += 1
        self._status.frame_published(time.monotonic())
