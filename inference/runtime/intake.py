"""Frame intake: how many frames may wait inside the NATS client, and how many it dropped.

Why small: newest-frame-wins (:mod:`inference.runtime.slots`) bounds a frame's age only
if nothing queues in front of the slots. nats-py buffers each subscription's messages
before the callback runs and, when the buffer is full, drops the *incoming* message
(a SlowConsumerError): under sustained overload the buffer stays full and every frame
that gets through has waited for all of it. At 8 MiB that was ~80 720p JPEGs, 330 ms at
8 cameras x 30 fps and seconds for one 15 fps camera.

So each camera gets its own subscription with a buffer of a few frames, and its callback
hands over only the newest (:class:`NewestInBuffer`): a frame with a newer frame of the
same camera already waiting behind it is superseded before its headers are even read.
After a stall of the event loop (CPU contention) the burst that arrives is drained at a
few microseconds a frame and the slot gets the burst's newest frame, not its oldest;
only a stall longer than the buffer (``PENDING_MSGS_PER_CAMERA`` frame intervals) makes
the client drop, and then the newest of what it kept is still the freshest frame left.

Pure arithmetic here; the consumer reads nats-py's public per-subscription counters
(``delivered``, ``pending_msgs``) and its own callback count, so the client's drops are
counted exactly without touching the connection's error callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Client-buffer depth of a ``frames.<camera>`` subscription, in messages (8 frames: a
#: 270 ms stall of the event loop at 30 fps loses nothing that would have run).
PENDING_MSGS_PER_CAMERA = 8
#: Client-buffer depth of the ``frames.*`` subscription (every camera, so no per-camera
#: skipping: each frame's headers are read and the slot keeps the newest), in messages:
#: two frames each for 8 cameras arriving at once; a burst beyond it loses the newest
#: frames, counted as ``client_buffer``.
PENDING_MSGS_ALL_CAMERAS = 16


@dataclass(frozen=True, slots=True)
class PendingLimits:
    """nats-py ``pending_msgs_limit`` (messages) and ``pending_bytes_limit`` (bytes)."""

    msgs: int
    bytes: int


def pending_limits(wildcard: bool, max_payload: int) -> PendingLimits:
    """Limits of one frame subscription: ``wildcard`` = ``frames.*``, else one camera.

    The message count is the bound that matters; the byte limit is set just above
    ``msgs`` frames of ``max_payload`` bytes (the largest message the server accepts), so
    it never drops a frame the message limit would keep (nats-py drops once the pending
    bytes *reach* the limit).
    """
    if max_payload <= 0:
        raise ValueError(f"max_payload must be positive, got {max_payload}")
    msgs = PENDING_MSGS_ALL_CAMERAS if wildcard else PENDING_MSGS_PER_CAMERA
    return PendingLimits(msgs, msgs * max_payload + 1)


def client_dropped(delivered: int, handled: int, pending: int) -> int:
    """Messages the client dropped for a full buffer: delivered to it, never handed to us.

    ``delivered`` (nats-py ``Subscription.delivered``) counts every message the client
    read for the subscription, dropped or not; ``handled`` counts our callback's calls;
    ``pending`` is what still waits in the buffer. Exact when read on the event loop
    (nats-py counts, then queues or drops, with no await in between).
    """
    if min(delivered, handled, pending) < 0:
        raise ValueError(f"negative counter: delivered={delivered} handled={handled} pending={pending}")
    return max(0, delivered - handled - pending)


class NewestInBuffer:
    """Skip decision of one camera's subscription callback: hand over only the newest frame.

    ``pending_behind`` is the subscription's ``pending_msgs`` when the callback runs: all
    newer frames of the same camera. At most ``max_run`` frames in a row are skipped, so a
    loop that never drains its buffer (persistent overload) still hands over every
    ``max_run + 1``-th frame instead of none.
    """

    def __init__(self, max_run: int = PENDING_MSGS_PER_CAMERA) -> None:
        if max_run < 0:
            raise ValueError(f"max_run must be >= 0, got {max_run}")
        self._max_run = max_run
        self._run = 0

    def superseded(self, pending_behind: int) -> bool:
        """True: drop this frame (a newer one follows); False: hand it to the slot."""
        if pending_behind > 0 and self._run < self._max_run:
            self._run += 1
            return True
        self._run = 0
        return False


#: Reads one subscription's (delivered, handled, pending) counters.
CounterReader = Callable[[], tuple[int, int, int]]


class IntakeTally:
    """Client-buffer drops of a consumer's frame subscriptions, monotonic across resubscribes.

    Live subscriptions are read through their :data:`CounterReader` whenever a count is
    asked for (on the event loop); :meth:`retire` folds a subscription's final counts in
    before it goes away.
    """

    def __init__(self) -> None:
        self._retired_dropped = 0
        self._retired_delivered = 0
        self._live: dict[int, CounterReader] = {}

    def watch(self, key: int, read: CounterReader) -> None:
        """Count subscription ``key`` from now on."""
        self._live[key] = read

    def retire(self, key: int) -> None:
        """Subscription ``key`` ended: keep its counts, forget the subscription."""
        read = self._live.pop(key, None)
        if read is not None:
            counters = read()
            self._retired_delivered += counters[0]
            self._retired_dropped += client_dropped(*counters)

    @property
    def dropped(self) -> int:
        """Frames the NATS client dropped before our callback saw them."""
        return self._retired_dropped + sum(client_dropped(*read()) for read in self._live.values())

    @property
    def delivered(self) -> int:
        """Frames the NATS client read for our subscriptions (before any drop)."""
        return self._retired_delivered + sum(read()[0] for read in self._live.values())
