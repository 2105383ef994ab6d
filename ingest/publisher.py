"""The event-loop side of the cameras: stamp each encoded frame and publish it on ``frames.<camera>``.

One task publishes for every camera (:func:`publish_forever`). A pass drains
every camera's queue, and the frames of one pass leave in one socket write
(nats-py's flusher runs after it). Each loop wake-up costs far more CPU than a
publish on a loaded machine (~0.4 ms per pass on 2 shared cores, see
``bench/ingest_density.py``), so passes are rationed: when the loop has been quiet
for :data:`PUBLISH_HOLD_S` a ring publishes at once (one camera, or a few slow
ones, see no added latency); while frames keep coming faster than that, passes
run on a ``PUBLISH_HOLD_S`` tick with the doorbell silenced, so a frame waits at
most that long and 8 cameras at 30 fps cost about 100 wake-ups a second instead
of about 240.

``seq`` is assigned here, at publish time, so it increases by exactly one per
published frame for the whole life of the process (across reconnects, file
loops and WHIP sessions); a gap seen by a consumer therefore means a loss
between NATS and that consumer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from courtside_contracts.headers import FrameMeta, frame_headers
from courtside_contracts.subjects import frames_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.kit.cancel import raise_if_cancelled
from ingest.camera_status import CameraStatus
from ingest.handoff import Doorbell, Handoff
from ingest.jpeg_encoder import EncodedFrame

log = logging.getLogger(__name__)

#: Longest time (seconds) a frame waits in its hand-off queue for a publishing pass
#: while frames arrive faster than one per this interval.
PUBLISH_HOLD_S = 0.01


class FrameHeaders:
    """Builds the headers of one camera's frames, equal to :meth:`FrameMeta.to_headers`.

    The camera name is validated once, here, instead of per frame (constructing a
    :class:`FrameMeta` per frame re-validates it); the layout is the contract's
    :func:`~courtside_contracts.headers.frame_headers`.
    """

    def __init__(self, camera: str) -> None:
        FrameMeta(camera=camera, seq=0, ts=0, width=1, height=1)  # validates the name
        self._camera = camera

    def build(self, seq: int, frame: EncodedFrame) -> dict[str, str]:
        return frame_headers(self._camera, seq, frame.ts_ns, frame.width, frame.height, frame.pts)


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
        #: Told (seq, ts ns, pts seconds) of every published frame: the recording's seq index.
        self.on_published: Callable[[int, int, float | None], None] | None = None

    async def publish_pending(self) -> int:
        """Publish every frame waiting in the hand-off queue, oldest first; returns how many were taken."""
        frames = self.handoff.pop_all()
        if not frames:
            return 0
        published = 0
        for frame in frames:
            published += await self.publish(frame)
        if published:
            self._status.frames_published(published, time.monotonic())
        return len(frames)

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
        if self.on_published is not None:
            self.on_published(self.next_seq, frame.ts_ns, frame.pts)
        self.next_seq += 1
        return 1


class Pending(Protocol):
    async def publish_pending(self) -> int: ...


async def _publish_all(publishers: Sequence[Pending]) -> int:
    taken = 0
    for publisher in publishers:
        taken += await publisher.publish_pending()
    return taken


async def publish_forever(doorbell: Doorbell, publishers: Sequence[Pending],
                          hold_s: float = PUBLISH_HOLD_S) -> None:
    """Publish the cameras' frames as their workers ring ``doorbell``, until cancelled.

    Quiet (no pass for ``hold_s``): a ring publishes at once. Busy: passes every
    ``hold_s`` with the doorbell silent, until a pass finds nothing.
    """
    loop = asyncio.get_running_loop()
    last = -math.inf
    while True:
        raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
        await doorbell.wait()
        if loop.time() - last >= hold_s:
            doorbell.rearm()
            last = loop.time()
            await _publish_all(publishers)
            continue
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            delay = last + hold_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            last = loop.time()
            if not await _publish_all(publishers):
                doorbell.rearm()  # quiet again: rings wake the loop from here on
                await _publish_all(publishers)  # a frame put just before the rearm rang silently
                break
