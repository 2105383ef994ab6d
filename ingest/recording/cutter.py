"""Where a camera's packet stream is cut into segments: pure policy, no I/O, no clock reads.

Times are the source's decode timestamps in seconds (``packet.dts * time_base``),
passed in with every packet. A segment always starts on a keyframe, so every
segment plays on its own; it is closed at the first keyframe at least
``segment_s`` after its start, at the first keyframe after :meth:`SegmentCutter.flush`
was asked, or at once on a discontinuity (time going backwards: a looping file
rewound; a jump of more than ``max_gap_s``: a reconnect or a lost stretch), after
which packets are skipped until the next keyframe. Invariant: a segment holds
packets in decode order with non-decreasing times.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cut(Enum):
    """What to do with one packet."""

    SKIP = "skip"              # no segment open and not a keyframe: wait for one
    OPEN = "open"              # start a new segment with this packet
    APPEND = "append"          # add to the open segment
    CLOSE = "close"            # close the open segment; this packet is skipped (not a keyframe)
    CLOSE_OPEN = "close_open"  # close the open segment and start the next one with this packet


@dataclass(slots=True)
class SegmentCutter:
    """Cutting state of one camera. ``segment_s``: target length in seconds (segments are
    at least this long, up to one GOP longer); ``max_gap_s``: largest forward step between
    two packets (seconds) still treated as one continuous stream."""

    segment_s: float = 10.0
    max_gap_s: float = 2.0
    start_s: float | None = None
    last_s: float | None = None
    flush_pending: bool = False

    @property
    def is_open(self) -> bool:
        return self.start_s is not None

    def flush(self) -> None:
        """Close the open segment at the next keyframe (a saved clip wants it now)."""
        if self.is_open:
            self.flush_pending = True

    def reset(self) -> None:
        """The stream ended or broke: the caller closes any open segment; the next starts on a keyframe."""
        self.start_s = self.last_s = None
        self.flush_pending = False

    def packet(self, t_s: float, keyframe: bool) -> Cut:
        """The decision for a packet at source time ``t_s`` (seconds)."""
        if self.start_s is None or self.last_s is None:
            if not keyframe:
                return Cut.SKIP
            return self._open(t_s, Cut.OPEN)
        broken = t_s < self.last_s or t_s - self.last_s > self.max_gap_s
        due = t_s - self.start_s >= self.segment_s or self.flush_pending
        if keyframe and (broken or due):
            return self._open(t_s, Cut.CLOSE_OPEN)
        if broken:
            self.reset()
            return Cut.CLOSE
        self.last_s = t_s
        return Cut.APPEND

    def _open(self, t_s: float, cut: Cut) -> Cut:
        self.start_s = self.last_s = t_s
        self.flush_pending = False
        return cut
