"""The bridge from the cameras' worker threads to the event loop.

Each camera has its own bounded drop-oldest queue: when the publisher falls
behind, that camera's oldest pending frame is discarded (and counted) so its
newest is always published and latency never grows, and no camera can crowd
out another. All cameras share one :class:`Doorbell`: a frame finished while a
wake-up is already on its way rings nothing, so one loop wake-up (a syscall
and a task switch) serves every frame that arrived in the meantime, whatever
camera it came from.

The queue is the kit's (:class:`courtside.kit.queue.SharedDropOldestQueue`);
:class:`Doorbell` and :class:`Handoff` add the asyncio wake-up.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from courtside.kit.queue import SharedDropOldestQueue

T = TypeVar("T")


class Doorbell:
    """Wakes one waiter on an event loop from any thread, coalescing rings.

    After a ring has woken the loop, further rings are silent (a flag test, no
    syscall) until the waiter calls :meth:`rearm`, which it does just before it
    looks at its queues: an item put after that look always rings again.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._ready = asyncio.Event()
        self._pending = False  # a wake-up is on its way to the loop

    def ring(self) -> None:
        """From any thread, after the item is in its queue."""
        if self._pending:
            return
        self._pending = True
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop is closed: the service is shutting down
            pass

    def _wake(self) -> None:
        self._ready.set()

    async def wait(self) -> None:
        """Return once a ring has arrived; rings stay silent until :meth:`rearm`. On the loop only."""
        await self._ready.wait()
        self._ready.clear()

    def rearm(self) -> None:
        """Let the next ring wake the loop. Call right before looking at the queues. On the loop only."""
        self._pending = False


class Handoff(Generic[T]):
    """One camera's drop-oldest queue, filled from any thread, announced on a doorbell."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 2,
                 doorbell: Doorbell | None = None) -> None:
        self.queue: SharedDropOldestQueue[T] = SharedDropOldestQueue(maxsize)
        self.doorbell = doorbell if doorbell is not None else Doorbell(loop)

    @property
    def dropped(self) -> int:
        return self.queue.total_dropped

    def put(self, item: T) -> bool:
        """Called from a worker thread. Returns True when an older item was dropped."""
        dropped = self.queue.put(item)
        self.doorbell.ring()
        return dropped > 0

    def pop_all(self) -> list[T]:
        return self.queue.pop_all()

    async def get(self) -> T:
        """The oldest pending item, waiting for one if needed (a handoff with its own doorbell)."""
        while True:
            self.doorbell.rearm()
            item = self.queue.pop()
            if item is not None:
                return item
            await self.doorbell.wait()
