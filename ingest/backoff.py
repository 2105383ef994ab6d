"""Reconnect delays: capped exponential backoff with full jitter.

Full jitter (delay uniform in [0, min(cap, base * 2**attempt)]) spreads the
reconnects of many cameras that lost the same server at the same moment.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays in seconds for successive failed attempts; :meth:`reset` after a success."""

    def __init__(self, base_s: float = 0.25, cap_s: float = 30.0,
                 rand: Callable[[float, float], float] = random.uniform) -> None:
        if base_s <= 0 or cap_s <= 0:
            raise ValueError("backoff base and cap must be positive")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rand = rand
        self.attempt = 0

    def ceiling(self) -> float:
        """Upper bound (seconds) of the next delay."""
        return min(self.cap_s, self.base_s * 2.0 ** min(self.attempt, 62))

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; each call counts one more failure."""
        delay = float(self._rand(0.0, self.ceiling()))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
