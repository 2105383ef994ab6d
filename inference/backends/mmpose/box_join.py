"""Person boxes from a detector's annotations, joined to frames by (camera, seq): pure logic.

The top-down RTMPose runner needs, for each frame it is given, the boxes another model
(the detector) published for the same frame on ``annotations.<camera>.<detector>``. The
two consumers run at their own rates, so the detector's message may come before the
frame reaches the pose model, after it (late), or never (the detector dropped the frame
under newest-frame-wins, or is down).

:class:`BoxJoin` holds what arrived and answers, for a frame, "joined", "wait until
t", or "missing". It reads no clock: every call takes ``now_ns`` (monotonic
nanoseconds). Memory is bounded three ways, so nothing leaks whatever the rates:

- at most ``max_entries`` detector messages are held (the oldest arrival is dropped);
- an entry older than ``retain_ns`` is dropped;
- once a camera's frame ``seq`` is answered, its entries with a lower or equal seq are
  dropped and later ones for them discarded on arrival (the pose model never goes back:
  the runtime serves the newest frame of each camera).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

#: One person box in frame pixels and its detector score: (x1, y1, x2, y2, score).
Box = tuple[float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class Joined:
    """The detector's boxes for the frame (possibly none: it saw nobody)."""

    boxes: tuple[Box, ...]


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing yet; ask again by ``until_ns`` (the frame's deadline) or when a message arrives."""

    until_ns: int


@dataclass(frozen=True, slots=True)
class Missing:
    """No detector message for the frame arrived within the timeout."""

    waited_ns: int


Outcome = Joined | Wait | Missing


@dataclass(slots=True)
class JoinCounts:
    """Totals since start, for the heartbeat: frames joined / missing, messages dropped."""

    joined: int = 0
    missing: int = 0
    evicted: int = 0     # dropped for max_entries
    expired: int = 0     # dropped for retain_ns
    superseded: int = 0  # arrived for, or held for, a frame older than one already answered


class BoxJoin:
    """Detector boxes held by (camera, seq); see the module doc for the bounds."""

    def __init__(self, timeout_ns: int, retain_ns: int | None = None, max_entries: int = 1024) -> None:
        if timeout_ns < 0 or max_entries < 1:
            raise ValueError("timeout_ns must be >= 0 and max_entries >= 1")
        self.timeout_ns = timeout_ns
        self.retain_ns = retain_ns if retain_ns is not None else max(4 * timeout_ns, 2_000_000_000)
        self.max_entries = max_entries
        self.counts = JoinCounts()
        self._held: OrderedDict[tuple[str, int], tuple[int, tuple[Box, ...]]] = OrderedDict()
        self._answered: dict[str, int] = {}  # camera -> highest seq answered
        self._first_asked: dict[tuple[str, int], int] = {}

    def __len__(self) -> int:
        return len(self._held)

    def add(self, camera: str, seq: int, boxes: tuple[Box, ...], now_ns: int) -> None:
        """The detector's annotation for (camera, seq) arrived at ``now_ns``."""
        self._expire(now_ns)
        if seq <= self._answered.get(camera, -1):
            self.counts.superseded += 1
            return
        key = (camera, seq)
        self._held.pop(key, None)
        self._held[key] = (now_ns, boxes)
        while len(self._held) > self.max_entries:
            self._held.popitem(last=False)
            self.counts.evicted += 1

    def ask(self, camera: str, seq: int, now_ns: int) -> Outcome:
        """The boxes for (camera, seq): Joined, Wait (until the deadline) or Missing.

        The deadline is ``timeout_ns`` after the first ask for that frame. A final answer
        (Joined or Missing) marks the frame answered (see the module doc).
        """
        self._expire(now_ns)
        if seq <= self._answered.get(camera, -1):
            self.forget(camera)  # the runtime never goes back: the camera's source restarted
        key = (camera, seq)
        held = self._held.pop(key, None)
        first = self._first_asked.setdefault(key, now_ns)
        while len(self._first_asked) > self.max_entries:
            del self._first_asked[next(iter(self._first_asked))]
        if held is not None:
            self._answer(camera, seq)
            self.counts.joined += 1
            return Joined(held[1])
        if now_ns - first < self.timeout_ns:
            return Wait(first + self.timeout_ns)
        self._answer(camera, seq)
        self.counts.missing += 1
        return Missing(now_ns - first)

    def _answer(self, camera: str, seq: int) -> None:
        self._first_asked = {k: t for k, t in self._first_asked.items() if not (k[0] == camera and k[1] <= seq)}
        if seq > self._answered.get(camera, -1):
            self._answered[camera] = seq
        stale = [k for k in self._held if k[0] == camera and k[1] <= seq]
        for k in stale:
            del self._held[k]
        self.counts.superseded += len(stale)

    def forget(self, camera: str) -> None:
        """Drop a camera's entries and its answered mark (it changed hands, or restarted at seq 0)."""
        self._answered.pop(camera, None)
        for k in [k for k in self._held if k[0] == camera]:
            del self._held[k]
        self._first_asked = {k: t for k, t in self._first_asked.items() if k[0] != camera}

    def _expire(self, now_ns: int) -> None:
        while self._held:
            key, (arrived, _) = next(iter(self._held.items()))
            if now_ns - arrived <= self.retain_ns:
                break
            del self._held[key]
            self.counts.expired += 1
