"""Rolling latency percentiles and rates for heartbeats: pure, clock passed in."""

from __future__ import annotations

import math
from collections import deque


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class LatencyWindow:
    """The last ``size`` latency samples (ms); percentiles over them."""

    def __init__(self, size: int = 512) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, ms: float) -> None:
        self._samples.append(ms)

    def percentiles(self, *qs: float) -> list[float]:
        ordered = sorted(self._samples)
        return [percentile(ordered, q) for q in qs]

    def __len__(self) -> int:
        return len(self._samples)


class RateMeter:
    """Events per second over the last ``window_ns`` (monotonic ns), bounded memory.

    Before a full window has passed since the first event, the rate is over the
    time elapsed so far, so a fresh meter does not under-report.
    """

    def __init__(self, window_ns: int = 5_000_000_000, max_events: int = 8192) -> None:
        self._window_ns = window_ns
        self._events: deque[int] = deque(maxlen=max_events)
        self._first_ns: int | None = None

    def mark(self, now_ns: int, count: int = 1) -> None:
        if self._first_ns is None:
            self._first_ns = now_ns
        self._events.extend([now_ns] * count)

    def rate(self, now_ns: int) -> float:
        cutoff = now_ns - self._window_ns
        while self._events and self._events[0] <= cutoff:
            self._events.popleft()
        if self._first_ns is None or not self._events:
            return 0.0
        span = min(self._window_ns, now_ns - self._first_ns)
        return len(self._events) / (span / 1e9) if span > 0 else 0.0
