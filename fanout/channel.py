"""One client's outgoing side: a drop-oldest data queue, a small control queue, its sender loop.

The hub (NATS side) calls :meth:`ClientChannel.offer`, which never waits. When
the server offers the direct-write fast path (:mod:`fanout.direct_write`) and
the client is *ready* (nothing queued, its socket not congested), ``offer``
writes the pre-framed message to the socket at once. Otherwise it enqueues
(dropping this client's oldest when full) and wakes the client's sender task,
whose body is :meth:`ClientChannel.pump`: it writes the queue through the
server's ASGI ``send`` (which waits while the socket is congested) and, once the
queue is empty, makes the client ready again. So a slow client falls back to
its own bounded queue, and every write to one socket happens in order.
Control replies (``subscribed``, ``pong``, ``error``) always take the queue: they
go first and are never dropped; lost data is announced with a ``dropped``
message just before the next data message.

The offer/pump pair is the per-client hot path (one call each per client and
message): it avoids method calls and coroutine layers on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from courtside_contracts.ws import server_message

from fanout.auth import Principal
from fanout.client_queue import DropOldestQueue
from fanout.direct_write import WriteNow
from fanout.subscriptions import NOTHING, Subscription

#: A text (JSON) or binary (video) WebSocket message, already encoded.
Outgoing = str | bytes
#: The server's raw ASGI ``send``.
AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]

_ids = itertools.count(1)


def _no_direct_write(_frame: bytes) -> bool:
    return False


class ControlOverflow(Exception):
    """The client sends requests faster than it reads the replies."""


class ClientChannel:
    """Per-connection state shared by the hub, the receive loop and the sender task."""

    __slots__ = ("_attached", "_control", "_control_limit", "_waiter", "_write_now", "close_code", "direct",
                 "id", "peer", "principal", "queue", "queued", "sent", "subscription")

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
        #: Data messages that went through the queue rather than straight to the socket.
        self.queued = 0
        self.close_code: int | None = None
        self._write_now: WriteNow = _no_direct_write
        self._attached = False
        #: Ready for direct writes: the fast path is attached and nothing waits in either queue.
        self.direct = False

    def attach(self, write_now: WriteNow) -> None:
        """Use the server's fast path (:mod:`fanout.direct_write`) once the queues are empty."""
        self._write_now = write_now
        self._attached = True
        self.direct = not self.queue and not self._control and self.close_code is None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def offer(self, message: Outgoing, size: int, frame: bytes | None = None) -> None:
        """Hot path: write ``frame`` (``message`` framed by :func:`fanout.direct_write.encode_frame`)
        now if the client is ready; else enqueue ``message`` (dropping this client's oldest when
        full) and wake the sender."""
        if self.direct and frame is not None and self._write_now(frame):
            self.sent += 1
            return
        self.direct = False
        self.queued += 1
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
        self.direct = False
        self._control.append(message)
        self._wake()

    def close(self, code: int) -> None:
        """Have the sender flush the control replies, then close the socket with ``code``.

        Data still queued is discarded: the client is being told why it is cut off.
        """
        self.close_code = code
        self.direct = False
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
        """The sender task's body: forever take the next message and ``send`` it (ASGI events);
        when the queues are empty, hand writing back to :meth:`offer` (if attached) and park.

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
                    self.direct = self._attached
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
