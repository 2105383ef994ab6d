"""Each finished rally saved as a clip with its stats (never expired, like every saved clip).

Subscribes ``analytics.*`` in the queue group :data:`QUEUE` (one fanout replica saves each
rally); a message with a ``finished_rally`` asks ingest to close the camera's open segment
(so the archive reaches the rally's end), waits for it to be archived, and saves the rally's
time range through the archive's clip API with the stats under ``rally`` in the manifest.
Saves run one at a time in a task behind a bounded queue (:data:`QUEUE_SIZE`; a full queue
drops the newest rally, counted in ``dropped``); a failed save is logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from courtside_contracts.analytics import AnalyticsMessage, RallyStats
from courtside_contracts.errors import ContractError
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from courtside.kit.cancel import cancel_and_wait, raise_if_cancelled
from fanout.archive.replay import Replay, ReplayError
from fanout.archive.store import ArchiveError
from fanout.highlights import RALLY_KEY

log = logging.getLogger(__name__)

QUEUE = "fanout-rally-clips"
QUEUE_SIZE = 32
#: Cheap test before parsing: most analytics messages finish no rally.
_NO_RALLY = b'"finished_rally":null'


class RallyClips:
    """Start with :meth:`start`, stop with :meth:`stop`; ``saved``/``failed``/``dropped`` count rallies."""

    def __init__(self, nc: NATS, replay: Replay, cameras: frozenset[str]) -> None:
        self._nc = nc
        self._replay = replay
        self._cameras = cameras
        self._queue: asyncio.Queue[tuple[str, RallyStats]] = asyncio.Queue(QUEUE_SIZE)
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.saved = self.failed = self.dropped = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._saver(), name="fanout-rally-clips")
        self._sub = await self._nc.subscribe("analytics.*", queue=QUEUE, cb=self._on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(NatsError):
                await self._sub.unsubscribe()
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _on_message(self, msg: Msg) -> None:
        if _NO_RALLY in msg.data:
            return
        try:
            message = AnalyticsMessage.from_json(msg.data)
        except ContractError:
            return  # fanout's bridge counts malformed analytics; nothing to save here
        if message.finished_rally is None or message.camera not in self._cameras:
            return
        try:
            self._queue.put_nowait((message.camera, message.finished_rally))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("%s: rally clip queue full; the rally ending at %d is not saved", message.camera,
                        message.finished_rally.end_ts)

    async def _saver(self) -> None:
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            camera, rally = await self._queue.get()
            try:
                with contextlib.suppress(ReplayError):  # no ingest answering: what is archived may cover it
                    await self._replay.flush(camera)
                await self._replay.wait_archived(camera, rally.end_ts)
                saved = await self._replay.save(camera, rally.start_ts, rally.end_ts, {RALLY_KEY: rally.to_dict()})
                self.saved += 1
                log.info("%s: rally of %.1f s (%d shots) saved as clip %s", camera, rally.duration_s, rally.shots,
                         saved["id"])
            except (ReplayError, ArchiveError) as exc:
                self.failed += 1
                log.warning("%s: the rally from %d to %d could not be saved: %s", camera, rally.start_ts,
                            rally.end_ts, exc)
