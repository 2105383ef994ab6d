"""Named worker threads running blocking jobs for the event loop.

Why the model gets one long-lived thread and is loaded in a thread that exits:
torch's CPU kernels use an OpenMP pool owned by the *calling* thread, and libgomp
stops spinning (workers sleep on a futex between parallel regions) as soon as the
pools of all live threads together exceed the cores. Measured on 2 cores, YOLO11n
720p: 45 ms per frame when one thread ever calls torch, 70 ms when a second live
thread (the event loop's, an executor's) has called it too. So: load and warm up
with :func:`run_in_fresh_thread` (the pool dies with that thread), run every batch
in the :class:`BlockingWorker`, never call torch on the event loop thread.

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


async def run_in_fresh_thread(name: str, fn: Callable[..., R], *args: object) -> R:
    """Run ``fn(*args)`` in a new thread that exits afterwards (see the module doc)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[R] = loop.create_future()

    def main() -> None:
        result: R | None = None
        error: BaseException | None = None
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        loop.call_soon_threadsafe(_settle, fut, result, error)

    threading.Thread(target=main, name=name, daemon=True).start()
    return await fut


def call_in_fresh_thread(name: str, fn: Callable[..., R], *args: object) -> R:
    """Blocking form of :func:`run_in_fresh_thread`, for scripts without an event loop."""
    box: dict[str, object] = {}

    def main() -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _settle(fut: asyncio.Future[R], result: R | None, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)  # type: ignore[arg-type]
