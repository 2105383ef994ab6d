"""When is a stream corrupt? Rules on per-packet decode outcomes (pure, no PyAV).

Two signs, either one ends the connection so the worker reconnects and resyncs:

* most recent packets fail to decode (FFmpeg conceals some errors and still
  returns pictures, so errors and pictures interleave);
* packets keep coming but none has decoded into a picture for a while. Packets
  without a picture are normal for a moment (decoder delay; a client joining a
  stream mid-GOP waits for the next keyframe), hence a time limit, not a count.
"""

from __future__ import annotations

from collections import deque
from enum import Enum


class Outcome(Enum):
    PICTURE = "picture"
    EMPTY = "empty"
    ERROR = "error"


class DecodeHealth:
    """Feed every packet's outcome; :meth:`packet` returns a reason once the stream is corrupt.

    ``window`` packets are judged together: corrupt when at least ``min_errors`` of
    them failed and they are at least ``max_error_fraction`` of it. ``no_picture_s``
    (seconds, monotonic clock) bounds the time without any picture.
    """

    def __init__(self, window: int = 30, min_errors: int = 10, max_error_fraction: float = 0.3,
                 no_picture_s: float = 2.0) -> None:
        self._recent: deque[bool] = deque(maxlen=window)
        self._min_errors = min_errors
        self._max_fraction = max_error_fraction
        self._no_picture_s = no_picture_s
        self._last_picture: float | None = None
        self._errors_in_window = 0

    def packet(self, outcome: Outcome, now: float) -> str | None:
        if self._last_picture is None:
            self._last_picture = now
        if len(self._recent) == self._recent.maxlen and self._recent[0]:
            self._errors_in_window -= 1
        failed = outcome is Outcome.ERROR
        self._recent.append(failed)
        self._errors_in_window += failed
        if outcome is Outcome.PICTURE:
            self._last_picture = now
        if (self._errors_in_window >= self._min_errors
                and self._errors_in_window >= self._max_fraction * len(self._recent)):
            return (f"corrupt bitstream: {self._errors_in_window} of the last {len(self._recent)} "
                    "packets failed to decode")
        silent_s = now - self._last_picture
        if outcome is not Outcome.PICTURE and silent_s > self._no_picture_s:
            return f"corrupt bitstream: packets arrive but no picture decoded for {silent_s:.1f} s"
        return None
