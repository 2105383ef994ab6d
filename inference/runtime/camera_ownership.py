"""Camera ownership of one stateful model replica: which cameras it serves, and which changed hands.

Stateful runners (tracking, background models) keep per-camera state, so each camera
must be served by exactly one replica (the rule is :mod:`inference.runtime.ownership`:
rendezvous hashing over the replicas alive in the heartbeats on ``status.inference.*``).

:class:`CameraOwnership` is pure (no I/O; times are ``time.monotonic_ns()`` passed
in): the consumer feeds it its peers' heartbeats, asks it about each frame's camera,
and before each batch takes the cameras whose state must be reset. :func:`join` is the
one I/O step: listen to the peers for one heartbeat interval before taking frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from courtside_contracts.errors import ContractError
from courtside_contracts.status import Heartbeat, ServiceState
from courtside_contracts.subjects import SERVICE_INFERENCE, status_wildcard
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from inference.runtime.ownership import Membership

log = logging.getLogger(__name__)


class CameraOwnership:
    """Ownership as seen by replica ``instance`` of model ``model``.

    A peer counts while its heartbeats keep coming (dropped ``stale_ns`` after the
    last one, at once when it says it is stopping). A camera that changes hands, in
    either direction, is queued for a reset: a camera that moved away and comes back
    must not resume from tracks that are seconds old (ids would jump, lost players
    reappear).
    """

    def __init__(self, model: str, instance: str, stale_ns: int) -> None:
        self.model = model
        self.instance = instance
        self._membership = Membership(instance, stale_ns)
        #: Whether this replica owned each camera at its last frame.
        self._owned: dict[str, bool] = {}
        self._to_reset: set[str] = set()

    def heard(self, beat: Heartbeat, now_ns: int) -> None:
        """A heartbeat from ``status.inference.*``; only replicas serving this model count."""
        if self.model in beat.models:
            self._membership.heard(beat.instance, now_ns, beat.state == ServiceState.STOPPING)

    def heard_json(self, data: bytes, now_ns: int) -> bool:
        """:meth:`heard` for a raw heartbeat message; False (and ignored) when it is malformed."""
        try:
            beat = Heartbeat.from_json(data)
        except ContractError:
            return False
        self.heard(beat, now_ns)
        return True

    def owns(self, camera: str, now_ns: int) -> bool:
        """Whether this replica serves ``camera`` now; a change since its last frame queues a reset."""
        owned = self._membership.owns(camera, now_ns)
        before = self._owned.get(camera)
        if before is not None and before != owned:
            self._to_reset.add(camera)
            log.info("%s: camera %s %s", self.model, camera,
                     "is ours again, its state starts afresh" if owned else "moved to another replica")
        self._owned[camera] = owned
        return owned

    def take_resets(self) -> list[str]:
        """The cameras whose state must be forgotten before the next batch (sorted; the queue empties)."""
        resets, self._to_reset = sorted(self._to_reset), set()
        return resets

    def replicas(self, now_ns: int) -> list[str]:
        """Live replicas of this model, this one included (sorted)."""
        return self._membership.live(now_ns)

    def owned(self, cameras: Iterable[str], now_ns: int) -> list[str]:
        """Those of ``cameras`` this replica owns now (no reset is queued by asking)."""
        return [c for c in cameras if self._membership.owns(c, now_ns)]


async def join(nc: NATS, on_heartbeat: Callable[[Msg], Awaitable[None]], announce: Callable[[], Awaitable[None]],
               interval_s: float, stop: asyncio.Event) -> Subscription:
    """Subscribe ``on_heartbeat`` to every inference heartbeat, announce this replica, then listen
    for 1.2 heartbeat intervals (or until ``stop``), so that the replica knows its peers before
    it takes a frame and never double-serves a camera at start-up. Returns the subscription
    (the caller unsubscribes it at shutdown)."""
    sub = await nc.subscribe(status_wildcard(SERVICE_INFERENCE), cb=on_heartbeat)
    await announce()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), 1.2 * interval_s)
    return sub
