"""The aiortc seam of WHIP recording: the encoded frames a receiver reassembles, and keyframe requests.

aiortc 1.16 offers no public hook for a receiver's encoded frames. Its ``RTCRtpReceiver``
puts each reassembled frame, ``(codec, JitterFrame)`` with the timestamp already unwrapped
(90 kHz, origin 0), on a ``queue.Queue`` that its decoder thread reads; that queue is made
in the constructor and handed to the thread when ``receive()`` starts it. :func:`tap_receiver`
replaces it, before the thread starts, with a :class:`TapQueue` that shows every frame to
recording and then passes it on unchanged, so decoding and the live path are untouched.
The replacement is checked to have taken effect (the private attribute exists, is a queue,
the thread has not started); when it has not (another aiortc), :class:`TapUnavailable`
says so, and the session records the decoded frames encoded once instead (logged).

Keyframe requests use the receiver's own RTCP PLI sender (``_send_rtcp_pli``), as aiortc does
after a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver

_QUEUE_ATTR = "_RTCRtpReceiver__decoder_queue"
_THREAD_ATTR = "_RTCRtpReceiver__decoder_thread"

#: Told (codec name lower-case, Annex-B/encoded bytes, timestamp in 90 kHz ticks) on the loop.
FrameTap = Callable[[str, bytes, int], None]


class TapUnavailable(RuntimeError):
    """This aiortc's receiver cannot be tapped; the message says why."""


class TapQueue(queue.Queue[Any]):
    """aiortc's decoder queue, showing each encoded frame to ``tap`` as it is put."""

    def __init__(self, tap: FrameTap) -> None:
        super().__init__()
        self._tap = tap

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            with contextlib.suppress(Exception):  # recording must never break reception
                codec, frame = item
                self._tap(str(codec.name).lower(), bytes(frame.data), int(frame.timestamp))
        super().put(item, block, timeout)


def tap_receiver(receiver: RTCRtpReceiver, tap: FrameTap) -> None:
    """Show every encoded frame of ``receiver`` to ``tap``; call before negotiation starts it."""
    current = getattr(receiver, _QUEUE_ATTR, None)
    if not isinstance(current, queue.Queue) or current.qsize():
        raise TapUnavailable("this aiortc's receiver has no decoder queue to tap")
    if getattr(receiver, _THREAD_ATTR, "missing") is not None:
        raise TapUnavailable("the receiver's decoder thread already runs (or aiortc changed)")
    setattr(receiver, _QUEUE_ATTR, TapQueue(tap))
    if not isinstance(getattr(receiver, _QUEUE_ATTR), TapQueue):
        raise TapUnavailable("the receiver's decoder queue could not be replaced")


class KeyframeRequester:
    """Asks the publisher for a keyframe (RTCP PLI on every SSRC the receiver hears); any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receiver: RTCRtpReceiver) -> None:
        self._loop = loop
        self._receiver = receiver
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._send)

    def _send(self) -> None:
        for source in self._receiver.getSynchronizationSources():
            task = self._loop.create_task(self._receiver._send_rtcp_pli(source.source))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
