"""The bounded FIFO of every hand-off in Courtside: it never blocks the producer; when full, the OLDEST go.

Latency never grows behind a slow consumer: it loses its oldest items, and the
loss is counted (``total_dropped``) and kept for a report (``take_dropped``).
:class:`DropOldestQueue` is pure and lock-free (one thread or one event loop);
:class:`SharedDropOldestQueue` is the same policy behind a lock, for a producer
and a consumer on different threads.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """FIFO of at most ``max_items``; a put on a full queue drops the oldest item.

    ``total_dropped``: every item dropped so far; ``pending_dropped``: dropped
    since the last :meth:`take_dropped` (read it to decide whether to call that).
    """

    __slots__ = ("_items", "max_items", "pending_dropped", "total_dropped")

    def __init__(self, max_items: int) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.max_items = max_items
        self._items: deque[T] = deque()
        self.total_dropped = 0
        self.pending_dropped = 0

    def put(self, item: T) -> int:
        """Append ``item``; return how many old items were dropped for it (0 or 1)."""
        self._items.append(item)
        if len(self._items) > self.max_items:
            self._items.popleft()
            self._count_dropped(1)
            return 1
        return 0

    def _count_dropped(self, n: int) -> None:
        self.total_dropped += n
        self.pending_dropped += n

    def pop(self) -> T:
        """Remove and return the oldest item; ``IndexError`` when empty."""
        return self._items.popleft()

    def pop_all(self) -> list[T]:
        """Every pending item, oldest first (empty list when none)."""
        items = list(self._items)
        self._items.clear()
        return items

    def take_dropped(self) -> int:
        """Items dropped since the previous call (what to tell the consumer it lost)."""
        count, self.pending_dropped = self.pending_dropped, 0
        return count

    def clear(self) -> None:
        """Forget every pending item (not counted as dropped: nobody is left to lose them)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


class SharedDropOldestQueue(Generic[T]):
    """:class:`DropOldestQueue` behind a lock: put from one thread, pop from another."""

    def __init__(self, max_items: int) -> None:
        self._queue: DropOldestQueue[T] = DropOldestQueue(max_items)
        self._lock = threading.Lock()

    @property
    def total_dropped(self) -> int:
        return self._queue.total_dropped

    def put(self, item: T) -> int:
        """Append ``item``; return how many old items were dropped for it (0 or 1)."""
        with self._lock:
            return self._queue.put(item)

    def pop(self) -> T | None:
        """The oldest item, or None when empty (between threads, a check then a pop would race)."""
        with self._lock:
            return self._queue.pop() if self._queue else None

    def pop_all(self) -> list[T]:
        """Every pending item, oldest first (empty list when none)."""
        with self._lock:
            return self._queue.pop_all() if self._queue else []

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)
