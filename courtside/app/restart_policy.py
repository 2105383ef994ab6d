"""When ``courtside up`` restarts a crashed child, and when it gives up (pure: no clock, no I/O).

Each child has one :class:`RestartTracker`. On every crash the supervisor calls
:meth:`RestartTracker.crashed` with the monotonic time (seconds) and the child's uptime
(seconds), and gets a :class:`Restart` (after ``delay_s`` seconds) or a :class:`GiveUp`
(with the words to log). Backoff: ``initial_s * multiplier ** (n - 1)`` for the n-th crash
in a row, capped at ``max_s``, then spread by +-``jitter`` (a fraction) so that children that
died together do not come back in lock-step, and capped again (the cap is a promise). A run
that lasted ``stable_after_s`` seconds resets the backoff. More than ``max_crashes`` crashes
within ``window_s`` seconds means the child cannot run: restarting it forever would only hide
that, so the supervisor stops and says so.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Backoff and give-up thresholds; every duration in seconds."""

    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    window_s: float = 60.0
    max_crashes: int = 5
    stable_after_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s:
            raise ValueError("restart backoff: need 0 < initial_s <= max_s")
        if self.multiplier < 1:
            raise ValueError("restart backoff: multiplier must be >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("restart backoff: jitter must be in [0, 1)")
        if self.window_s <= 0 or self.max_crashes < 1 or self.stable_after_s <= 0:
            raise ValueError("restart policy: window_s, max_crashes and stable_after_s must be positive")


@dataclass(frozen=True, slots=True)
class Restart:
    """Start the child again in ``delay_s`` seconds; ``attempt``: crashes in a row so far."""

    delay_s: float
    attempt: int


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Do not restart: ``reason`` says how often it crashed and within how long."""

    reason: str


class RestartTracker:
    """Crash history of one child. ``uniform`` returns a float in [0, 1) (tests pass a fixed one)."""

    def __init__(self, policy: RestartPolicy, uniform: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self._uniform = uniform
        self._crashes: deque[float] = deque()
        self.in_a_row = 0
        #: Restarts decided since start (what the metrics and /api/services report).
        self.restarts = 0

    def crashes_in_window(self, now: float) -> int:
        """Crashes within the last ``window_s`` seconds before ``now``."""
        while self._crashes and now - self._crashes[0] > self.policy.window_s:
            self._crashes.popleft()
        return len(self._crashes)

    def crashed(self, now: float, uptime_s: float) -> Restart | GiveUp:
        """Record a crash at ``now`` after a run of ``uptime_s`` seconds and decide."""
        p = self.policy
        self._crashes.append(now)
        count = self.crashes_in_window(now)
        if count > p.max_crashes:
            return GiveUp(f"crashed {count} times within {p.window_s:g} s")
        self.in_a_row = 1 if uptime_s >= p.stable_after_s else self.in_a_row + 1
        base = min(p.max_s, p.initial_s * p.multiplier ** (self.in_a_row - 1))
        spread = 1.0 + p.jitter * (2.0 * self._uniform() - 1.0)
        self.restarts += 1
        return Restart(min(p.max_s, base * spread), self.in_a_row)
