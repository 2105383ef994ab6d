"""A bounded FIFO that never blocks the producer: when full, the OLDEST items go.

The policy of every per-client queue in fanout: the NATS side enqueues and moves
on; a slow client loses its own oldest messages, and the number lost since the
last report is handed to the sender so it can tell the client (``dropped``).
Pure data structure: no asyncio, no clock.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """FIFO bounded by ``max_items`` and ``max_bytes`` (sum of the sizes given to :meth:`put`).

    Invariant after every :meth:`put`: ``len(self) <= max_items`` and ``self.bytes <=
    max_bytes``, except that the newest item is always kept even when it alone is
    larger than ``max_bytes``.
    """

    __slots__ = ("_items", "bytes", "max_bytes", "max_items", "pending_dropped", "total_dropped")

    def __init__(self, max_items: int, max_bytes: int = 1 << 62) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("max_items and max_bytes must be >= 1")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: deque[tuple[T, int]] = deque()
        self.bytes = 0
        self.total_dropped = 0
        #: Dropped since the last :meth:`take_dropped` (read it to decide whether to call that).
        self.pending_dropped = 0

    def put(self, item: T, size: int = 0) -> int:
        """Append ``item`` (``size`` bytes); return how many old items were dropped for it."""
        items = self._items
        items.append((item, size))
        self.bytes += size
        if len(items) > self.max_items or self.bytes > self.max_bytes:
            return self._shrink()
        return 0

    def _shrink(self) -> int:
        items = self._items
        dropped = 0
        while len(items) > self.max_items or (self.bytes > self.max_bytes and len(items) > 1):
            _, old_size = items.popleft()
            self.bytes -= old_size
            dropped += 1
        self.total_dropped += dropped
        self.pending_dropped += dropped
        return dropped

    def pop(self) -> T:
        """Remove and return the oldest item; ``IndexError`` when empty."""
        item, size = self._items.popleft()
        self.bytes -= size
        return item

    def take_dropped(self) -> int:
        """Items dropped since the previous call (the ``count`` of a ``dropped`` message)."""
        count, self.pending_dropped = self.pending_dropped, 0
        return count

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)
