"""The event-loop side of the cameras: stamp each encoded frame and publish it on ``frames.<camera>``.

One task publishes for every camera (:func:`publish_forever`): each wake-up of
the shared :class:`~ingest.handoff.Doorbell` drains every camera's queue, and
the frames published in that one pass leave in one socket write (nats-py's
flusher runs after the pass). Per frame this costs the header dict and the
client's ``publish``; the wake-up, task switch and socket write are shared.

``seq`` is assigned here, at publish time, so it increases by exactly one per
published frame for the whole life of the process (across reconnects, file
loops and WHIP sessions); a gap seen by a consumer therefore means a loss
between NATS and that consumer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from contracts.headers import CAMERA, ENCODING, HEIGHT, JPEG, PTS, SEQ, TS, WIDTH, FrameMeta
from contracts.subjects import frames_subject
from ingest.camera_status import CameraStatus
from ingest.handoff import Doorbell, Handoff
from ingest.jpeg_encoder import EncodedFrame

log = logging.getLogger(__name__)


class FrameHeaders:
    """Builds the headers of one camera's frames, equal to :meth:`FrameMeta.to_headers`.

    The camera name is validated once, here, instead of per frame; the per-frame work
    is three number-to-text conversions (two more when the size changes).
    """

    def __init__(self, camera: str) -> None:
        FrameMeta(camera=camera, seq=0, ts=0, width=1, height=1)  # validates the name
        self._camera = camera
        self._size = (0, 0)
        self._size_text = ("0", "0")

    def build(self, seq: int, frame: EncodedFrame) -> dict[str, str]:
        if (frame.width, frame.height) != self._size:
            self._size = (frame.width, frame.height)
            self._size_text = (str(frame.width), str(frame.height))
        headers = {
            CAMERA: self._camera,
            SEQ: str(seq),
            TS: str(frame.ts_ns),
            WIDTH: self._size_text[0],
            HEIGHT: self._size_text[1],
            ENCODING: JPEG,
        }
        if frame.pts is not None:
            headers[PTS] = repr(float(frame.pts))
        return headers


class FramePublisher:
    """Publishes one camera's frames as they leave its hand-off queue."""

    def __init__(self, nc: NATS, camera: str, handoff: Handoff[EncodedFrame], status: CameraStatus,
                 first_seq: int = 1) -> None:
        self._nc = nc
        self._camera = camera
        self._subject = frames_subject(camera)
        self._headers = FrameHeaders(camera)
        self.handoff = handoff
        self._status = status
        self.next_seq = first_seq
        self._failing = False

    async def publish_pending(self) -> None:
        """Publish every frame waiting in the hand-off queue, oldest first."""
        frames = self.handoff.pop_all()
        if not frames:
            return
        published = 0
        for frame in frames:
            published += await self.publish(frame)
        if published:
            self._status.frames_published(published, time.monotonic())

    async def publish(self, frame: EncodedFrame) -> int:
        """Publish one frame; returns 1 when it was handed to the client, 0 when dropped."""
        try:
            await self._nc.publish(self._subject, frame.jpeg, headers=self._headers.build(self.next_seq, frame))
        except NatsError as exc:
            self._status.count_dropped()
            if not self._failing:
                log.warning("%s: publish failed, frames are dropped until NATS is back: %s",
                            self._camera, exc)
                self._failing = True
            return 0
        if self._failing:
            log.info("%s: publishing again", self._camera)
            self._failing = False
        self.next_seq += 1
        return 1


async def publish_forever(doorbell: Doorbell, publishers: Sequence[FramePublisher]) -> None:
    """Publish the cameras' frames as their workers ring ``doorbell``, until cancelled."""
    while True:
        await doorbell.wait()
        for publisher in publishers:
            await publisher.publish_pending()
