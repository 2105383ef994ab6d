"""Closed segments leave the spool for NATS: bytes into the JetStream object store ``segments``,
then the :class:`~courtside_contracts.clips.SegmentMessage` on ``clips.<camera>``.

Runs on the event loop (file reads in a thread). A segment leaves the spool only after
both the put and the stream's publish ack succeeded; until then it waits, and a
failure (NATS down, the object store full because the archiver is behind) is retried
with a capped, jittered backoff while the spool's limits decide what is lost: oldest
first, counted and reported. ``Nats-Msg-Id = segment_id`` makes a re-sent message a
no-op, and a re-put replaces the same object, so a crash between the two steps only
repeats work. The seq column of the index comes from :class:`SeqIndex`, fed by the
frame publisher; a segment waits after closing until a later frame was published (its
last frames have their seq), at most :data:`INDEX_GRACE_NS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from courtside_contracts.clips import IndexEntry, SegmentMessage
from courtside_contracts.streams import CLIPS
from courtside_contracts.subjects import SEGMENTS_BUCKET, clips_subject
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BadRequestError
from nats.js.object_store import ObjectStore

from courtside.kit.cancel import raise_if_cancelled
from courtside.natsio import NatsUnavailable, ensure_stream
from ingest.backoff import Backoff
from ingest.recording.recorder import RecordingStats
from ingest.recording.spool import Spool, SpooledSegment

log = logging.getLogger(__name__)

#: Nanoseconds a closed segment waits before shipping, so its last frames have a seq.
INDEX_GRACE_NS = 500_000_000
#: Slack (ns) around a segment's wall-clock range when picking its frames from the index.
INDEX_SLACK_NS = 5_000_000_000
#: Seconds between passes over the spools when nothing failed.
PASS_INTERVAL_S = 0.25
#: Seconds between passes while a flush (a saved clip) waits for its segment.
HURRY_INTERVAL_S = 0.02


class SeqIndex:
    """The last published frames of one camera: (seq, pts seconds, ts Unix ns), bounded
    (oldest forgotten first; ``capacity`` frames cover a few segments at 120 fps)."""

    def __init__(self, capacity: int = 8192) -> None:
        self._entries: deque[IndexEntry] = deque(maxlen=capacity)
        self.newest_ts = 0

    def add(self, seq: int, ts_ns: int, pts: float | None) -> None:
        self.newest_ts = max(self.newest_ts, ts_ns)
        if pts is not None:
            self._entries.append(IndexEntry(seq, pts, ts_ns))

    def past(self, end_ns: int) -> bool:
        """Whether a frame captured at or after ``end_ns`` was published: frames are published
        in order, so every frame before it has its seq (or was dropped, never to get one)."""
        return self.newest_ts >= end_ns

    def select(self, segment: SpooledSegment) -> tuple[IndexEntry, ...]:
        """The frames of ``segment``: pts in [pts_origin, pts_end), ts near its wall range
        (a looping file repeats pts; the wall range tells the passes apart)."""
        lo, hi = segment.start_ns - INDEX_SLACK_NS, segment.end_ns + INDEX_SLACK_NS
        picked = [e for e in list(self._entries)
                  if segment.pts_origin - 1e-6 <= e.pts < segment.pts_end and lo <= e.ts <= hi]
        return tuple(sorted(picked, key=lambda e: e.pts))


@dataclass(slots=True)
class ShipTarget:
    """What the shipper holds for one camera."""

    spool: Spool
    seqs: SeqIndex
    stats: RecordingStats


def build_message(segment: SpooledSegment, index: tuple[IndexEntry, ...]) -> SegmentMessage:
    return SegmentMessage(
        segment_id=segment.segment_id, camera=segment.camera, start_ns=segment.start_ns,
        end_ns=segment.end_ns, codec=segment.codec, width=segment.width, height=segment.height,
        size=segment.size, object_key=segment.segment_id, fragments=segment.fragments,
        crc32c=segment.crc32c, pts_origin=segment.pts_origin, index=index)


class SegmentShipper:
    """Ships every camera's spooled segments, oldest first, until cancelled."""

    def __init__(self, nc: NATS, targets: Mapping[str, ShipTarget], *, object_store_max_bytes: int,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self._nc = nc
        self._targets = targets
        self._max_bytes = object_store_max_bytes
        self._clock = clock
        self._store: ObjectStore | None = None
        self._backoff = Backoff(base_s=0.25, cap_s=10.0)
        self._failing = ""
        #: (camera, segment_id, closed_ns, end_ns) of the last shipped segments (for flush replies).
        self.shipped: deque[tuple[str, str, int, int]] = deque(maxlen=256)
        #: Flushes waiting: passes run every HURRY_INTERVAL_S while above 0.
        self.hurry = 0

    async def _ensure_store(self) -> ObjectStore:
        if self._store is None:
            await ensure_stream(self._nc, CLIPS)
            js = self._nc.jetstream()
            try:
                self._store = await js.create_object_store(SEGMENTS_BUCKET, ObjectStoreConfig(
                    description="Courtside recording segments waiting for the archiver",
                    max_bytes=self._max_bytes, storage=StorageType.FILE))
            except BadRequestError:  # exists with other settings: use it as it is
                self._store = await js.object_store(SEGMENTS_BUCKET)
        return self._store

    async def run(self) -> None:
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            try:
                await self.pass_once()
            except (NatsError, NatsUnavailable, asyncio.TimeoutError, OSError) as exc:
                delay = self._backoff.next_delay()
                why = f"{type(exc).__name__}: {exc}"[:200]
                if why != self._failing:
                    log.warning("recording: segments wait in the spool (%s); retrying", why)
                    self._failing = why
                for target in self._targets.values():
                    target.stats.ship_failures += 1
                    if target.spool.pending():
                        target.stats.reason = f"segments waiting in the spool: {why}"
                await asyncio.sleep(max(delay, 0.05))
                continue
            if self._failing:
                log.info("recording: shipping segments again")
                self._failing = ""
                for target in self._targets.values():
                    if target.stats.reason.startswith("segments waiting"):
                        target.stats.reason = ""
            self._backoff.reset()
            await asyncio.sleep(HURRY_INTERVAL_S if self.hurry else PASS_INTERVAL_S)

    async def pass_once(self, grace_ns: int = INDEX_GRACE_NS) -> int:
        """Ship every segment closed at least ``grace_ns`` ago, or sooner once a later frame
        was published (its index is complete); returns how many. Raises on a NATS failure."""
        shipped = 0
        for camera, target in self._targets.items():
            now = self._clock()
            target.spool.enforce(now)  # each drop counted in the stats by the spool's on_evict
            for segment in target.spool.pending():
                if now - segment.closed_ns < grace_ns and not target.seqs.past(segment.end_ns):
                    break
                shipped += await self._ship(camera, target, segment)
        return shipped

    async def _ship(self, camera: str, target: ShipTarget, segment: SpooledSegment) -> bool:
        """Ship one segment; False when it was evicted (and counted) since the pass listed it."""
        if not target.spool.begin_ship(segment.segment_id):
            return False
        try:
            path = target.spool.media_path(segment.segment_id)
            data = await asyncio.to_thread(path.read_bytes)
            message = build_message(segment, () if segment.salvaged else target.seqs.select(segment))
            store = await self._ensure_store()
            await store.put(segment.segment_id, data)
            await self._nc.jetstream().publish(clips_subject(camera), message.to_json(), timeout=5.0,
                                               headers={"Nats-Msg-Id": segment.segment_id})
            target.spool.remove(segment.segment_id)
        finally:
            target.spool.end_ship(segment.segment_id)
        target.stats.shipped += 1
        self.shipped.append((camera, segment.segment_id, segment.closed_ns, segment.end_ns))
        log.debug("%s: shipped segment %s (%d bytes, %d frames indexed)", camera, segment.segment_id,
                  segment.size, len(message.index))
        return True
