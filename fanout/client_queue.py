"""Each WebSocket client's data queue: the kit's drop-oldest queue, bounded in bytes too.

The policy of every per-client queue in fanout: the NATS side enqueues and moves
on; a slow client loses its own oldest messages, and the number lost since the
last report is handed to the sender so it can tell the client (``dropped``).
Video frames are ~100 KB and annotations ~1 KB, so a count alone would let one
slow video client hold megabytes: the byte bound caps that. Pure: no asyncio, no clock.
"""

from __future__ import annotations

from collections import deque
from typing import TypeVar

from courtside.kit.queue import DropOldestQueue as KitDropOldestQueue

T = TypeVar("T")


class DropOldestQueue(KitDropOldestQueue[T]):
    """:class:`courtside.kit.queue.DropOldestQueue` also bounded by ``max_bytes`` (sum of the sizes
    given to :meth:`put`).

    Invariant after every :meth:`put`: ``len(self) <= max_items`` and ``self.bytes <=
    max_bytes``, except that the newest item is always kept even when it alone is
    larger than ``max_bytes``.
    """

    __slots__ = ("_sizes", "bytes", "max_bytes")

    def __init__(self, max_items: int, max_bytes: int = 1 << 62) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        super().__init__(max_items)
        self.max_bytes = max_bytes
        self._sizes: deque[int] = deque()
        self.bytes = 0

    def put(self, item: T, size: int = 0) -> int:
        """Append ``item`` (``size`` bytes); return how many old items were dropped for it."""
        self._items.append(item)
        self._sizes.append(size)
        self.bytes += size
        if len(self._items) > self.max_items or self.bytes > self.max_bytes:
            return self._shrink()
        return 0

    def _shrink(self) -> int:
        items, sizes = self._items, self._sizes
        dropped = 0
        while len(items) > self.max_items or (self.bytes > self.max_bytes and len(items) > 1):
            items.popleft()
            self.bytes -= sizes.popleft()
            dropped += 1
        self._count_dropped(dropped)
        return dropped

    def pop(self) -> T:
        """Remove and return the oldest item; ``IndexError`` when empty."""
        item = self._items.popleft()
        self.bytes -= self._sizes.popleft()
        return item

    def pop_all(self) -> list[T]:
        self._sizes.clear()
        self.bytes = 0
        return super().pop_all()

    def clear(self) -> None:
        super().clear()
        self._sizes.clear()
        self.bytes = 0
