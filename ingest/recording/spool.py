"""The bounded local spool of one camera: closed segments wait here until NATS has them.

Layout: ``<dir>/<segment_id>.mp4.part`` while a segment is written, then
``<segment_id>.mp4`` plus ``<segment_id>.json`` (a :class:`SpooledSegment`) once
closed. Limits: total bytes and age (seconds since the segment's start); beyond
either the **oldest segment goes first**, and every loss is counted, logged and
reported through ``on_evict`` (metrics, camera status): never silent.

Thread-safe: the camera's worker thread adds, the event loop ships and removes.
File I/O here is small (a JSON file, a rename, an unlink) except :meth:`Spool.recover`,
which runs once at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from courtside_contracts import clips

from ingest.recording.remuxer import crc32c_of, probe_segment

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpooledSegment:
    """A closed segment waiting to be shipped. Wall times in Unix ns, pts in source seconds.
    ``salvaged``: recovered after a crash (its seq index died with the process).

    Not a :class:`~courtside_contracts.clips.SegmentMessage`, though it shares most fields: the
    message's ``index`` is only known at ship time (``shipper.build_message`` joins the seq index),
    and this record's JSON is the on-disk spool format, which must not change with the wire contract.
    """

    segment_id: str
    camera: str
    start_ns: int
    end_ns: int
    codec: str
    width: int
    height: int
    pts_origin: float
    pts_end: float
    size: int
    fragments: int
    crc32c: int
    closed_ns: int
    salvaged: bool = False


@dataclass(frozen=True, slots=True)
class SpoolLimits:
    """``max_bytes``: total bytes of closed segments; ``max_age_s``: seconds since a segment started."""

    max_bytes: int
    max_age_s: float


#: Called with (camera, segment_id, reason) for every segment dropped from the spool.
EvictCallback = Callable[[str, str, str], None]


class Spool:
    """Closed segments of one camera, oldest first."""

    def __init__(self, camera: str, directory: Path, limits: SpoolLimits,
                 on_evict: EvictCallback | None = None) -> None:
        self.camera = camera
        self.dir = directory
        self.limits = limits
        self._on_evict = on_evict
        self._lock = threading.Lock()
        self._segments: dict[str, SpooledSegment] = {}
        #: Segments the shipper is sending right now: never evicted (they are on their way out).
        self._shipping: set[str] = set()
        self.evicted = 0
        self.dir.mkdir(parents=True, exist_ok=True)

    def part_path(self, segment_id: str) -> Path:
        return self.dir / f"{segment_id}.mp4.part"

    def media_path(self, segment_id: str) -> Path:
        return self.dir / f"{segment_id}.mp4"

    def add(self, segment: SpooledSegment, now_ns: int) -> None:
        """Move a closed ``.part`` file into the spool (worker thread), then apply the limits."""
        os.replace(self.part_path(segment.segment_id), self.media_path(segment.segment_id))
        meta = self.dir / f"{segment.segment_id}.json"
        tmp = meta.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(segment)))
        os.replace(tmp, meta)
        with self._lock:
            self._segments[segment.segment_id] = segment
        self.enforce(now_ns)

    def pending(self) -> list[SpooledSegment]:
        """Closed segments, oldest first."""
        with self._lock:
            return sorted(self._segments.values(), key=lambda s: s.start_ns)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(s.size for s in self._segments.values())

    def begin_ship(self, segment_id: str) -> bool:
        """Mark a segment as being shipped (exempt from eviction until :meth:`end_ship`);
        False when it is no longer in the spool (evicted meanwhile)."""
        with self._lock:
            if segment_id not in self._segments:
                return False
            self._shipping.add(segment_id)
            return True

    def end_ship(self, segment_id: str) -> None:
        with self._lock:
            self._shipping.discard(segment_id)

    def remove(self, segment_id: str) -> None:
        """Forget a segment (shipped, or evicted) and delete its files."""
        with self._lock:
            self._segments.pop(segment_id, None)
        for path in (self.media_path(segment_id), self.dir / f"{segment_id}.json"):
            path.unlink(missing_ok=True)

    def enforce(self, now_ns: int) -> int:
        """Drop the oldest segments beyond the byte and age limits; returns how many. A segment
        being shipped is skipped: counting it lost while it reaches NATS would over-report."""
        dropped = 0
        while True:
            with self._lock:
                total = sum(s.size for s in self._segments.values())
                ordered = sorted((s for s in self._segments.values() if s.segment_id not in self._shipping),
                                 key=lambda s: s.start_ns)
            if not ordered:
                return dropped
            oldest = ordered[0]
            age_s = (now_ns - oldest.start_ns) / 1e9
            if total > self.limits.max_bytes:
                reason = f"spool over {self.limits.max_bytes} bytes"
            elif age_s > self.limits.max_age_s:
                reason = f"older than {self.limits.max_age_s:.0f} s in the spool"
            else:
                return dropped
            self.remove(oldest.segment_id)
            self.evicted += 1
            dropped += 1
            log.warning("%s: recording segment %s dropped from the spool (%s; NATS or the archive "
                        "has been unreachable); %d dropped so far", self.camera, oldest.segment_id,
                        reason, self.evicted)
            if self._on_evict is not None:
                self._on_evict(self.camera, oldest.segment_id, reason)

    def recover(self, now_ns: int) -> list[str]:
        """Start-up: load closed segments and salvage ``.part`` files a crash left behind.

        A ``.part`` file is cut after its last complete fragment (at most the fragment
        being written is lost) and spooled as ``salvaged``; one with nothing playable is
        deleted. Returns the ids salvaged.
        """
        salvaged: list[str] = []
        for meta in sorted(self.dir.glob("*.json")):
            try:
                seg = SpooledSegment(**json.loads(meta.read_text()))
            except (OSError, ValueError, TypeError):
                log.warning("%s: unreadable spool entry %s removed", self.camera, meta.name)
                meta.unlink(missing_ok=True)
                continue
            if self.media_path(seg.segment_id).is_file():
                with self._lock:
                    self._segments[seg.segment_id] = seg
        for part in sorted(self.dir.glob("*.mp4.part")):
            seg_id = part.name.removesuffix(".mp4.part")
            segment = self._salvage(part, seg_id, now_ns)
            if segment is None:
                part.unlink(missing_ok=True)
                continue
            self.add(segment, now_ns)
            salvaged.append(seg_id)
        self.enforce(now_ns)
        return salvaged

    def _salvage(self, part: Path, seg_id: str, now_ns: int) -> SpooledSegment | None:
        data = part.read_bytes()
        original = len(data)
        keep = clips.playable_prefix(data)
        if keep == 0 or clips.fragment_count(data[:keep]) == 0:
            log.warning("%s: crashed segment %s had no complete fragment; removed", self.camera, seg_id)
            return None
        with part.open("r+b") as handle:
            handle.truncate(keep)
        probe = probe_segment(part)
        start_ns = int(seg_id.rsplit("-", 1)[1])
        if probe is None:
            return None
        first, end, _packets, width, height, codec = probe
        data = data[:keep]
        log.warning("%s: salvaged crashed segment %s: kept %d of %d bytes (%.2f s)",
                    self.camera, seg_id, keep, original, end - first)
        return SpooledSegment(
            segment_id=seg_id, camera=self.camera, start_ns=start_ns,
            end_ns=start_ns + max(1, int((end - first) * 1e9)), codec=codec, width=width, height=height,
            pts_origin=first, pts_end=end, size=keep, fragments=clips.fragment_count(data),
            crc32c=crc32c_of(data), closed_ns=now_ns, salvaged=True)
