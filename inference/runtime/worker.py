"""A named worker thread running blocking jobs for the event loop.

Bridged by a bounded :class:`queue.Queue` (``maxsize`` jobs; ``None`` is the stop
signal) on the way in and ``loop.call_soon_threadsafe`` on the way out, so JPEG
decoding and model runs never block NATS pings or heartbeats. The consumer keeps
one job in flight, so the queue never fills; :meth:`submit` refuses rather than
blocks if it ever would.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
J = TypeVar("J")
R = TypeVar("R")


class WorkerBusy(RuntimeError):
    """More jobs were submitted than the worker's queue bounds."""


class BlockingWorker(Generic[J, R]):
    """Runs ``fn(job)`` in one thread named ``name``; results come back as awaitables."""

    def __init__(self, name: str, fn: Callable[[J], R], maxsize: int = 1) -> None:
        self._fn = fn
        self._queue: queue.Queue[tuple[J, asyncio.Future[R], asyncio.AbstractEventLoop] | None] = (
            queue.Queue(maxsize=maxsize))
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def name(self) -> str:
        return self._thread.name

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: J) -> asyncio.Future[R]:
        """Queue ``job``; the returned future resolves with ``fn(job)`` or its exception."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[R] = loop.create_future()
        try:
            self._queue.put_nowait((job, fut, loop))
        except queue.Full:
            raise WorkerBusy(f"worker {self.name} already has {self._queue.maxsize} job(s) queued") from None
        return fut

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Let queued jobs finish, then end the thread (waits at most ``timeout_s``)."""
        if not self._thread.is_alive():
            return
        await asyncio.to_thread(self._queue.put, None)
        await asyncio.to_thread(self._thread.join, timeout_s)
        if self._thread.is_alive():
            log.warning("worker %s did not stop within %.1f s", self.name, timeout_s)

    def _main(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, fut, loop = item
            result: R | None = None
            error: BaseException | None = None
            try:
                result = self._fn(job)
            except BaseException as exc:  # handed to the awaiting coroutine, which decides
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, fut, result, error)
            except RuntimeError:  # the loop closed while the job ran: nobody is waiting
                log.debug("worker %s: result dropped, event loop closed", self.name)


def _settle(fut: asyncio.Future[R], result: R | None, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)  # type: ignore[arg-type]
