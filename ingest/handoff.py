"""The bridge from the cameras' worker threads to the event loop.

Each camera has its own bounded drop-oldest queue: when the publisher falls
behind, that camera's oldest pending frame is discarded (and counted) so its
newest is always published and latency never grows, and no camera can crowd
out another. All cameras share one :class:`Doorbell`: a frame finished while a
wake-up is already on its way rings nothing, so one loop wake-up (a syscall
and a task switch) serves every frame that arrived in the meantime, whatever
camera it came from.

:class:`DropOldestQueue` is the pure, thread-safe part; :class:`Doorbell` and
:class:`Handoff` add the asyncio wake-up.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """Thread-safe FIFO of at most ``maxsize`` items; a put on a full queue drops the oldest."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, item: T) -> bool:
        """Append ``item``; return True when an older item was dropped to make room."""
        with self._lock:
            dropped = len(self._items) >= self._maxsize
            if dropped:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            return dropped

    def pop(self) -> T | None:
        """The oldest item, or None when empty."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def pop_all(self) -> list[T]:
        """Every pending item, oldest first (empty list when none)."""
        with self._lock:
            if not self._items:
                return []
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


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
    """One camera's :class:`DropOldestQueue`, filled from any thread, announced on a doorbell."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 2,
                 doorbell: Doorbell | None = None) -> None:
        self.queue: DropOldestQueue[T] = DropOldestQueue(maxsize)
        self.doorbell = doorbell if doorbell is not None else Doorbell(loop)

    @property
    def dropped(self) -> int:
        return self.queue.dropped

    def put(self, item: T) -> bool:
        """Called from a worker thread. Returns True when an older item was dropped."""
        dropped = self.queue.put(item)
        self.doorbell.ring()
        return dropped

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
