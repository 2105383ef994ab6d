"""The bridge from a camera's worker thread to the event loop.

Bounded with a drop-oldest policy: when the publisher falls behind, the oldest
pending frame is discarded (and counted) so the newest is always published and
latency never grows. :class:`DropOldestQueue` is the pure, thread-safe part;
:class:`Handoff` adds the asyncio wake-up.
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

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class Handoff(Generic[T]):
    """A :class:`DropOldestQueue` filled from any thread and awaited on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 2) -> None:
        self._loop = loop
        self.queue: DropOldestQueue[T] = DropOldestQueue(maxsize)
        self._ready = asyncio.Event()
        self._wake_pending = False  # a wake-up is already on its way to the loop

    @property
    def dropped(self) -> int:
        return self.queue.dropped

    def put(self, item: T) -> bool:
        """Called from a worker thread. Returns True when an older item was dropped."""
        dropped = self.queue.put(item)
        if not self._wake_pending:  # one wake-up (a syscall) is enough for any number of items
            self._wake_pending = True
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop is closed: the service is shutting down
                pass
        return dropped

    def _wake(self) -> None:
        self._wake_pending = False
        self._ready.set()

    async def get(self) -> T:
        """The oldest pending item, waiting for one if needed."""
        while True:
            item = self.queue.pop()
            if item is not None:
                return item
            self._ready.clear()
            item = self.queue.pop()
            if item is not None:
                return item
            await self._ready.wait()
