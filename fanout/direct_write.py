"""The write fast path of ``/ws``: a message framed once, written to every ready client's socket.

Why: at 30 messages/s to ~1000 clients, the per-client-message cost is what limits
fanout. Through ASGI, each client-message cost a sender-task wake-up, a task step
and an awaited ``send`` that re-frames the same payload for every client (~15 us
of server CPU against ~8.5 us for a bare ``websockets.broadcast``). Here the hub
frames a message once (:func:`encode_frame`: server frames are unmasked, and with
no extension negotiated they are byte-identical for every client, like gorilla's
``PreparedMessage``) and :meth:`DirectWriteProtocol.write_now` hands those bytes to
the transport synchronously when the connection is open and its transport is not
congested. Anything else (a congested client, control replies, the close) stays
on the ASGI path: the client's sender task with its drop-oldest queue.

This module is the only place that touches uvicorn internals: it subclasses
uvicorn's sans-I/O WebSocket protocol (``uvicorn.protocols.websockets.
websockets_sansio_impl``, the one uvicorn picks when ``websockets`` is installed)
and reads its ``conn`` (the websockets ``ServerProtocol``) and ``transport``
attributes. The app finds the fast path as an ASGI scope extension
(:data:`EXTENSION`) and works without it (any other server): then every message
takes the ASGI path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

#: ASGI scope extension under which the server offers ``{"write_now": WriteNow}``.
EXTENSION = "courtside.direct_write"

#: Writes one complete, already framed message now; False (nothing written) when it cannot.
WriteNow = Callable[[bytes], bool]


def encode_frame(message: str | bytes) -> bytes:
    """``message`` as one unmasked, unfragmented server frame: text for ``str``, binary for ``bytes``.

    Valid on any connection that negotiated no extension (fanout turns
    permessage-deflate off: it doubles server CPU for small JSON).
    """
    if isinstance(message, str):
        return Frame(Opcode.TEXT, message.encode()).serialize(mask=False)
    return Frame(Opcode.BINARY, message).serialize(mask=False)


def direct_writer(scope: Mapping[str, Any]) -> WriteNow | None:
    """The connection's fast path, when the server offers it (see :class:`DirectWriteProtocol`)."""
    offered = scope.get("extensions", {}).get(EXTENSION)
    return None if offered is None else offered["write_now"]


class DirectWriteProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol plus :meth:`write_now`, offered to the app in the scope.

    Pass the class as ``uvicorn.Config(ws=...)``. Everything else (handshake,
    ping/pong keepalive, close handshake, limits) is uvicorn's, unchanged.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: True between the transport's ``pause_writing`` and ``resume_writing`` (its
        #: buffer is over the high-water mark: the peer reads slower than we write).
        self.congested = False

    def pause_writing(self) -> None:
        self.congested = True
        super().pause_writing()

    def resume_writing(self) -> None:
        self.congested = False
        super().resume_writing()

    async def run_asgi(self) -> None:
        # handle_connect has negotiated extensions and built the scope; the app is not called yet.
        if not self.conn.extensions:  # shared pre-framed bytes are only valid without extensions
            self.scope["extensions"][EXTENSION] = {"write_now": self.write_now}
        await super().run_asgi()

    def write_now(self, frame: bytes) -> bool:
        """Write ``frame`` (from :func:`encode_frame`) if the connection is open and not congested.

        Returns False, writing nothing, when it is congested, closing (a close frame
        was sent or received: the websockets state leaves OPEN) or gone (the transport
        is closing as soon as a read or write fails, before uvicorn hears of it in
        ``connection_lost``); the caller then queues the message for the sender task.
        Writing a whole frame in one ``transport.write`` keeps frames from interleaving
        with uvicorn's own (pong, ping, close), which it also writes whole and synchronously.
        """
        if self.congested or self.transport.is_closing() or self.conn.state is not State.OPEN:
            return False
        self.transport.write(frame)
        return True

