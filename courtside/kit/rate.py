"""Events per second over a sliding window: pure, the clock is passed in."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Events per second over the last ``window_s`` seconds, in bounded memory.

    Times are monotonic readings in units of ``unit_s`` seconds: 1.0 for
    ``time.monotonic()``, 1e-9 for ``time.monotonic_ns()``. The rate counts the
    intervals between the events still in the window (``n - 1`` over the time
    since the oldest of them), so one event alone is 0/s, a fresh meter does not
    spike, and a silent source decays to 0 once its events age out. At most
    ``max_marks`` calls of :meth:`mark` are kept (the oldest go first).
    Not thread-safe: callers sharing one across threads hold their own lock.
    """

    __slots__ = ("_count", "_marks", "_max_marks", "_unit_s", "_window")

    def __init__(self, window_s: float = 5.0, *, unit_s: float = 1.0, max_marks: int = 8192) -> None:
        if window_s <= 0 or unit_s <= 0 or max_marks < 2:
            raise ValueError("window_s and unit_s must be > 0 and max_marks >= 2")
        self._window = window_s / unit_s
        self._unit_s = unit_s
        self._max_marks = max_marks
        self._marks: deque[tuple[float, int]] = deque()
        self._count = 0

    def mark(self, t: float, count: int = 1) -> None:
        """Record ``count`` events at time ``t`` (non-decreasing between calls)."""
        if count <= 0:
            return
        self._marks.append((t, count))
        self._count += count
        if len(self._marks) > self._max_marks:
            self._count -= self._marks.popleft()[1]
        self._trim(t)

    def rate(self, now: float) -> float:
        """Events per second at ``now`` (0.0 with fewer than two events in the window)."""
        self._trim(now)
        if self._count < 2:
            return 0.0
        span = now - self._marks[0][0]
        return (self._count - 1) / (span * self._unit_s) if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        marks = self._marks
        while marks and now - marks[0][0] > self._window:
            self._count -= marks.popleft()[1]
