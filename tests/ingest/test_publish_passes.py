"""publish_forever's pass rationing, with stand-in publishers (no NATS): timing and no lost frames."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from ingest.handoff import Doorbell, Handoff
from ingest.publisher import publish_forever


class Recorder:
    """Stands in for a FramePublisher: takes everything pending, records when."""

    def __init__(self, handoff: Handoff[int], progress: asyncio.Event) -> None:
        self.handoff = handoff
        self.progress = progress
        self.got: list[int] = []
        self.passes: list[float] = []

    async def publish_pending(self) -> int:
        items = self.handoff.pop_all()
        if items:
            self.got.extend(items)
            self.passes.append(time.monotonic())
            self.progress.set()
        return len(items)


def setup(cameras: int, hold_s: float) -> tuple[list[Recorder], asyncio.Task[None]]:
    loop = asyncio.get_running_loop()
    doorbell = Doorbell(loop)
    progress = asyncio.Event()
    recorders = [Recorder(Handoff(loop, 1000, doorbell), progress) for _ in range(cameras)]
    task = asyncio.create_task(publish_forever(doorbell, recorders, hold_s=hold_s))
    return recorders, task


async def until(done: Callable[[], bool], progress: asyncio.Event) -> None:
    async with asyncio.timeout(5):
        while not done():
            progress.clear()
            await progress.wait()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_quiet_ring_publishes_at_once() -> None:
    (rec,), task = setup(1, hold_s=1.0)
    try:
        for i in range(3):
            put_at = time.monotonic()
            threading.Thread(target=rec.handoff.put, args=(i,)).start()
            await until(lambda i=i: len(rec.got) > i, rec.progress)  # type: ignore[misc]
            if i == 0:  # later frames come within the hold: they may wait for the tick
                assert time.monotonic() - put_at < 0.5
        assert rec.got == [0, 1, 2]
    finally:
        await stop(task)


async def test_busy_frames_are_coalesced_and_none_is_lost() -> None:
    recorders, task = setup(4, hold_s=0.05)
    per_camera = 100
    try:
        def produce() -> None:
            for i in range(per_camera):
                for rec in recorders:
                    rec.handoff.put(i)
                time.sleep(0.002)

        producer = threading.Thread(target=produce)
        started = time.monotonic()
        producer.start()
        await asyncio.to_thread(producer.join, 10)
        await until(lambda: all(len(r.got) == per_camera for r in recorders), recorders[0].progress)
        elapsed = time.monotonic() - started
    finally:
        await stop(task)
    for rec in recorders:
        assert rec.got == list(range(per_camera))  # all of them, in order
        # One pass per hold while busy (plus the first, and slack for a loaded machine).
        assert len(rec.passes) <= elapsed / 0.05 + 3, (len(rec.passes), elapsed)
