"""One client's outgoing side: a drop-oldest data queue, a small control queue, a wake-up.

The hub (NATS side) calls :meth:`ClientChannel.offer` and never waits; the
client's single sender task awaits :meth:`ClientChannel.wait` and drains with
:meth:`ClientChannel.next_message`. Control replies (``subscribed``, ``pong``,
``error``) go first and are never dropped; lost data is announced with a
``dropped`` message just before the next data message.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque

from contracts.ws import server_message
from fanout.auth import Principal
from fanout.client_queue import DropOldestQueue
from fanout.subscriptions import NOTHING, Subscription

#: A text (JSON) or binary (video) WebSocket message, already encoded.
Outgoing = str | bytes

_ids = itertools.count(1)


class ControlOverflow(Exception):
    """The client sends requests faster than it reads the replies."""


class ClientChannel:
    """Per-connection state shared by the hub, the receive loop and the sender task."""

    __slots__ = ("_control", "_control_limit", "_waiter", "id", "peer", "principal", "queue", "sent",
                 "subscription")

    def __init__(self, principal: Principal, max_items: int, max_bytes: int, control_limit: int,
                 peer: str = "?") -> None:
        self.id = next(_ids)
        self.peer = peer
        self.principal = principal
        self.subscription: Subscription = NOTHING
        self.queue: DropOldestQueue[Outgoing] = DropOldestQueue(max_items, max_bytes)
        self._control: deque[str] = deque()
        self._control_limit = control_limit
        self._waiter: asyncio.Future[None] | None = None
        self.sent = 0

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def offer(self, message: Outgoing, size: int) -> None:
        """Hot path: enqueue (dropping this client's oldest when full) and wake the sender."""
        self.queue.put(message, size)
        if self._waiter is not None:
            self._wake()

    def control(self, message: str) -> None:
        """Queue a reply that must not be dropped; raise :class:`ControlOverflow` when flooded."""
        if len(self._control) >= self._control_limit:
            raise ControlOverflow(f"more than {self._control_limit} replies unread")
        self._control.append(message)
        self._wake()

    @property
    def pending_control(self) -> int:
        return len(self._control)

    def next_message(self) -> Outgoing | None:
        """The next message to send, or None when there is nothing (then :meth:`wait`)."""
        if self._control:
            return self._control.popleft()
        queue = self.queue
        if queue:
            dropped = queue.take_dropped()
            if dropped:
                return server_message("dropped", count=dropped, total=queue.total_dropped)
            return queue.pop()
        return None

    async def wait(self) -> None:
        """Sleep until something is offered (returns at once if something already is)."""
        if self._control or self.queue:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def __repr__(self) -> str:
        return f"ClientChannel(#{self.id} {self.peer} {self.principal.label})"
