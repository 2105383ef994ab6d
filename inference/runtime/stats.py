"""Latency percentiles, histograms and busy time for heartbeats and metrics: pure, clock injected.

Frame rates use the kit's :class:`courtside.kit.rate.RateMeter`.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable

#: Upper bounds (seconds) of the latency histogram buckets (Prometheus ``le``), for both the
#: model time of a batch and capture -> publish.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Seconds of model time that :meth:`LatencyWindow.busy_ratio` looks back over.
BUSY_WINDOW_S = 10.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class LatencyWindow:
    """Latency samples in milliseconds: the last ``size`` for percentiles (heartbeat), every one
    since start in cumulative buckets (Prometheus histogram), and the time each was added,
    for the share of time they cover (:meth:`busy_ratio`).

    ``clock`` gives monotonic seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(self, size: int = 512, buckets_s: tuple[float, ...] = LATENCY_BUCKETS_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self._bounds_ms = [b * 1000 for b in buckets_s]
        self._buckets_s = buckets_s
        self._counts = [0] * (len(buckets_s) + 1)  # the last one is +Inf
        self.count = 0
        self.sum_ms = 0.0
        self._clock = clock
        self._started = clock()
        self._timed: deque[tuple[float, float]] = deque(maxlen=8192)  # (added at, ms)

    def add(self, ms: float) -> None:
        self._samples.append(ms)
        self._counts[bisect_left(self._bounds_ms, ms)] += 1
        self.count += 1
        self.sum_ms += ms
        self._timed.append((self._clock(), ms))

    def percentiles(self, *qs: float) -> list[float]:
        ordered = sorted(self._samples)
        return [percentile(ordered, q) for q in qs]

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative ``(le, count)`` pairs, ``le`` in seconds, ending with ``+Inf``."""
        out, total = [], 0
        for bound, count in zip([*map(str, self._buckets_s), "+Inf"], self._counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out

    def busy_ratio(self, window_s: float = BUSY_WINDOW_S) -> float:
        """Share (0..1) of the last ``window_s`` seconds covered by the samples added in it
        (for model times: how busy the model was). Over the time since start while younger."""
        now = self._clock()
        span = min(window_s, now - self._started)
        if span <= 0:
            return 0.0
        busy_ms = sum(ms for at, ms in self._timed if now - at <= window_s)
        return min(1.0, busy_ms / 1000 / span)

    def __len__(self) -> int:
        return len(self._samples)
