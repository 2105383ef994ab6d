"""The heartbeat publisher: ``status.<service>.<instance>`` every interval, sooner on change.

Every service publishes the same way: one beat at start, one every
``interval_s`` seconds, one at once after :meth:`HeartbeatPublisher.beat_soon` (a
state change worth telling now; those within ``min_gap_s`` of it share the next), and
a last one when it stops (its state then says ``stopping``). A beat that cannot be
sent (NATS down) is skipped, never queued: the next one carries the news.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

from courtside_contracts.status import HEARTBEAT_INTERVAL_S, Heartbeat
from courtside_contracts.subjects import status_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from courtside.kit.cancel import cancel_and_wait, raise_if_cancelled

log = logging.getLogger(__name__)

#: Minimum seconds between two beats sent early by :meth:`HeartbeatPublisher.beat_soon`.
MIN_GAP_S = 0.2


class HeartbeatPublisher:
    """Publishes ``build()`` on its status subject; an async context manager (start / last beat)."""

    def __init__(self, nc: NATS, build: Callable[[], Heartbeat], interval_s: float = HEARTBEAT_INTERVAL_S,
                 *, min_gap_s: float = MIN_GAP_S) -> None:
        self.nc = nc
        self.build = build
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self._soon = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def publish(self) -> None:
        """Build and send one beat now (skipped, with a debug line, when NATS refuses it)."""
        beat = self.build()
        try:
            await self.nc.publish(status_subject(beat.service, beat.instance), beat.to_json())
        except NatsError as exc:
            log.debug("heartbeat not sent: %s", exc)

    def beat_soon(self) -> None:
        """Ask for a beat before the interval is up. On the event loop only
        (from a thread: ``loop.call_soon_threadsafe(publisher.beat_soon)``)."""
        self._soon.set()

    async def run(self) -> None:
        """Beat every ``interval_s`` (a fixed cadence, whatever the early beats), until cancelled."""
        early = asyncio.create_task(self._beat_on_change(), name="heartbeat-on-change")
        try:
            while True:
                raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
                await self.publish()
                await asyncio.sleep(self.interval_s)
        finally:
            await cancel_and_wait(early)

    async def _beat_on_change(self) -> None:
        """A beat right after :meth:`beat_soon`; asks within ``min_gap_s`` after it share the next one."""
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            await self._soon.wait()
            self._soon.clear()
            await self.publish()
            await asyncio.sleep(self.min_gap_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="heartbeat")

    async def stop(self, *, last_beat: bool = True, flush_timeout_s: float = 0.5) -> None:
        """Stop beating; by default send a last beat and flush it (bounded by ``flush_timeout_s``)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        if last_beat and self.nc.is_connected:
            await self.publish()
            with contextlib.suppress(NatsError, asyncio.TimeoutError):
                await asyncio.wait_for(self.nc.flush(), flush_timeout_s)

    async def __aenter__(self) -> HeartbeatPublisher:
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
