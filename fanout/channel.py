"""One client's outgoing side: a drop-oldest data queue, a small control queue, its sender loop.

The hub (NATS side) calls :meth:`ClientChannel.offer`, which only enqueues and
wakes the sender; it never waits. :meth:`ClientChannel.pump` is the body of the
client's single sender task and the only writer of its socket. Control replies
(``subscribed``, ``pong``, ``error``) go first and are never dropped; lost data
is announced with a ``dropped`` message just before the next data message.

The offer/pump pair is the per-client hot path (one call each per client and
message): it avoids method calls and coroutine layers on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from contracts.ws import server_message
from fanout.auth import Principal
from fanout.client_queue import DropOldestQueue
from fanout.subscriptions import NOTHING, Subscription

#: A text (JSON) or binary (video) WebSocket message, already encoded.
Outgoing = str | bytes
#: The server's raw ASGI ``send``.
AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]

_ids = itertools.count(1)


class ControlOverflow(Exception):
    """The client sends requests faster than it reads the replies."""


class ClientChannel:
    """Per-connection state shared by the hub, the receive loop and the sender task."""

    __slots__ = ("_control", "_control_limit", "_waiter", "close_code", "id", "peer", "principal", "queue",
                 "sent", "subscription")

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
        self.close_code: int | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def offer(self, message: Outgoing, size: int) -> None:
        """Hot path: enqueue (dropping this client's oldest when full) and wake the sender."""
        self.queue.put(message, size)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def control(self, message: str) -> None:
        """Queue a reply that must not be dropped; raise :class:`ControlOverflow` when flooded."""
        if len(self._control) >= self._control_limit:
            raise ControlOverflow(f"more than {self._control_limit} replies unread")
        self._control.append(message)
        self._wake()

    def close(self, code: int) -> None:
        """Have the sender flush the control replies, then close the socket with ``code``.

        Data still queued is discarded: the client is being told why it is cut off.
        """
        self.close_code = code
        self.queue.clear()
        self._wake()

    def next_message(self) -> Outgoing | None:
        """The next message to send, or None when there is nothing right now."""
        if self._control:
            return self._control.popleft()
        queue = self.queue
        if queue:
            if queue.pending_dropped:
                return server_message("dropped", count=queue.take_dropped(), total=queue.total_dropped)
            return queue.pop()
        return None

    async def pump(self, send: AsgiSend) -> None:
        """The sender task's body: forever take the next message and ``send`` it (ASGI events).

        Returns after sending the close asked for by :meth:`close`, or when ``send``
        fails (the peer is gone; uvicorn raises an OSError); cancel it to stop earlier.
        """
        next_message = self.next_message
        create_future = asyncio.get_running_loop().create_future
        try:
            while True:
                message = next_message()
                if message is None:
                    if self.close_code is not None:
                        await send({"type": "websocket.close", "code": self.close_code})
                        return
                    waiter = self._waiter = create_future()
                    try:
                        await waiter
                    finally:
                        self._waiter = None
                    continue
                if message.__class__ is str:
                    await send({"type": "websocket.send", "text": message})
                else:
                    await send({"type": "websocket.send", "bytes": message})
                self.sent += 1
        except (RuntimeError, OSError):
            return

    def __repr__(self) -> str:
        return f"ClientChannel(#{self.id} {self.peer} {self.principal.label})"
