"""Which replica owns which camera, for stateful models (tracking).

Choice: **rendezvous (highest-random-weight) hashing over the live replicas**, with
liveness taken from the heartbeats every replica already publishes on
``status.inference.<instance>``. Why not a JetStream KV lease: hashing needs no
extra round trips or lease renewals, every replica computes the same answer from
the same membership, and a membership change moves only the cameras of the replica
that joined or left (minimal disruption, so trackers elsewhere keep their state).

Rules (all replicas of a model run the same config, so the same numbers):
- ``owner(camera) = argmax over live instances of blake2b(camera | instance)``.
- A replica is live while its heartbeats (state != stopping) keep arriving;
  it is dropped ``stale_ns`` after the last one. With the 1 s heartbeat used in
  ownership mode and ``stale_ns`` = 2.5 s, a killed replica's cameras move within
  ~3.5 s. A replica stopping cleanly sends a "stopping" heartbeat: its cameras
  move at once.
- A new replica listens for one heartbeat interval before taking frames, so it
  knows its peers and never double-serves a camera at start-up. During the short
  window where views disagree, a camera may be served twice; JetStream then drops
  the repeat by ``Nats-Msg-Id`` (``<camera>.<model>.<seq>``).

Pure logic: times are passed in (``time.monotonic_ns()``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def rendezvous_score(camera: str, instance: str) -> int:
    """Deterministic 64-bit weight of ``instance`` for ``camera`` (same on every host)."""
    digest = hashlib.blake2b(f"{camera}|{instance}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(camera: str, instances: Iterable[str]) -> str | None:
    """The instance that owns ``camera`` among ``instances`` (None when there are none)."""
    best: tuple[int, str] | None = None
    for inst in instances:
        key = (rendezvous_score(camera, inst), inst)
        if best is None or key > best:
            best = key
    return None if best is None else best[1]


class Membership:
    """Live replicas of one model as seen from ``self_instance`` (always live)."""

    def __init__(self, self_instance: str, stale_ns: int) -> None:
        self.self_instance = self_instance
        self._stale_ns = stale_ns
        self._last_seen: dict[str, int] = {}

    def heard(self, instance: str, now_ns: int, stopping: bool = False) -> None:
        """Record a heartbeat from a peer; a ``stopping`` one removes it at once."""
        if instance == self.self_instance:
            return
        if stopping:
            self._last_seen.pop(instance, None)
        else:
            self._last_seen[instance] = now_ns

    def live(self, now_ns: int) -> list[str]:
        """Sorted live instances, including this one."""
        cutoff = now_ns - self._stale_ns
        for inst in [i for i, t in self._last_seen.items() if t < cutoff]:
            del self._last_seen[inst]
        return sorted({self.self_instance, *self._last_seen})

    def owns(self, camera: str, now_ns: int) -> bool:
        return owner(camera, self.live(now_ns)) == self.self_instance
