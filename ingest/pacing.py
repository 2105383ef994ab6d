"""Frame timing decisions: the fps cap and real-time pacing of file sources.

Pure logic on plain timestamps (seconds, any monotonic origin): no clocks are
read here, so the rules are tested with plain numbers.
"""

from __future__ import annotations


class FpsLimiter:
    """Keeps at most ``fps`` frames per second, evenly spread, on an anchored schedule.

    A frame at time ``t`` is kept when ``t >= due - tolerance``; each kept frame moves
    ``due`` forward by exactly one interval, so the long-run rate never exceeds ``fps``
    (30 fps capped to 20 keeps 2 frames of 3). ``tolerance`` (a fraction of the interval)
    absorbs wake-up jitter. After a gap (stall, reconnect) the schedule re-anchors
    instead of letting a burst through; when time goes back by more than an interval
    (a file looped, a source reset its pts) it re-anchors too.

    Feed it source time (pts) where there is one (see :func:`cap_time`): the decision
    then does not depend on when a loaded machine got round to the frame, so a
    30 fps source capped at 30 keeps every frame instead of dropping decoded frames
    after each scheduling hiccup.
    """

    def __init__(self, fps: float, tolerance: float = 0.25) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.interval_s = 1.0 / fps
        self._slack = tolerance * self.interval_s
        self._due: float | None = None

    def keep(self, t: float) -> bool:
        """Decide for a frame captured at ``t`` seconds."""
        if self._due is None or t >= self._due + self.interval_s or t < self._due - 2 * self.interval_s:
            self._due = t + self.interval_s  # first frame, after a gap, or the clock went back
            return True
        if t >= self._due - self._slack:
            self._due += self.interval_s
            return True
        return False

    def reset(self) -> None:
        self._due = None


def cap_time(pts: float | None, now: float) -> float:
    """The time the fps cap judges a frame by: its source time (seconds) when known, else
    ``now`` (monotonic seconds, when the frame reached us)."""
    return now if pts is None else pts


class RealtimePacer:
    """When to release each frame of a file so that it plays like a live camera.

    ``delay(pts, now)`` returns the seconds to wait before the frame with source
    time ``pts`` (seconds) is due, given the monotonic time ``now``. The first frame
    anchors the schedule. When ``pts`` goes backwards (the file looped) the next
    pass continues one frame period after the last frame. When the reader fell
    behind by more than ``max_lag_s`` (a stall), or ``pts`` jumps far ahead, the
    schedule re-anchors rather than bursting or sleeping for long.
    """

    def __init__(self, max_lag_s: float = 1.0, max_ahead_s: float = 2.0) -> None:
        self._max_lag_s = max_lag_s
        self._max_ahead_s = max_ahead_s
        self._origin: float | None = None
        self._last_pts: float | None = None
        self._period_s = 1.0 / 30

    def delay(self, pts: float, now: float) -> float:
        if self._origin is None or self._last_pts is None:
            self._origin = now - pts
        elif pts <= self._last_pts:
            # A new pass of a looping file: continue right after the last frame.
            self._origin = self._origin + self._last_pts + self._period_s - pts
        else:
            self._period_s = min(pts - self._last_pts, 1.0)
        self._last_pts = pts
        due = self._origin + pts
        if now - due > self._max_lag_s or due - now > self._max_ahead_s:
            self._origin = now - pts
            return 0.0
        return max(0.0, due - now)
