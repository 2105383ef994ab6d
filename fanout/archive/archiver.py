"""The archiver: a durable JetStream consumer of ``CLIPS`` that puts each segment and its
annotation sidecar into the archive, acknowledging only once both are verified.

Per message: parse it (malformed: terminated and counted) -> if the segment is already
archived (a redelivery after a crash or a lost ack) verify it and stop there -> read
its bytes from the object store (pull consumer) -> refuse bytes whose size, CRC-32C or
fMP4 structure is wrong (reported, terminated, never archived as if whole) -> read its
annotations and analytics (until every model and the analytics service answered past its
last frame, at most ``annotation_grace_s`` after its end) and the camera's calibration (key-value bucket, read
only; unreadable: counted, logged once per change, the header says null) and build the
sidecar -> create both objects once, the sidecar first (``if_generation_match=0``; an existing one with
the same checksum counts as done) -> free the object store's copy -> ack.

An unreachable archive is retried with a capped, jittered backoff; the message stays
unacknowledged in the stream meanwhile, so nothing is lost and nothing is written
twice. All blocking archive calls run in threads: the live path never waits on them.
Several archivers (``courtside archive`` for scale-out) share the durable consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courtside_contracts import clips
from courtside_contracts.clips import SegmentMessage
from courtside_contracts.errors import ContractError
from courtside_contracts.streams import CLIPS
from courtside_contracts.subjects import CLIPS_PREFIX, CLIPS_STREAM
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig

from courtside.config import ArchiveConfig
from courtside.kit.cancel import raise_if_cancelled
from courtside.natsio import NatsUnavailable, ensure_stream
from fanout.archive import calibration, layout, sidecar
from fanout.archive.segment_source import SegmentMissing, SegmentUnreadable, delete_segment, read_segment
from fanout.archive.store import (
    ArchiveConflict,
    ArchiveError,
    ArchiveStore,
    ArchiveUnavailable,
    ObjectStat,
    crc32c_of,
)

log = logging.getLogger(__name__)

#: The durable consumer every archiver shares.
DURABLE = "archiver"
#: Seconds the server waits for an ack before redelivering (kept alive by in-progress pings).
ACK_WAIT_S = 10.0
#: Seconds between in-progress pings while one message is handled.
PROGRESS_EVERY_S = 3.0


@dataclass(slots=True)
class ArchiverStats:
    """Counters for /metrics and the status (all since start)."""

    archived: int = 0
    verified_existing: int = 0
    corrupt: int = 0
    missing: int = 0
    malformed: int = 0
    #: Segments archived with a null calibration because the camera's could not be read.
    calibration_unreadable: int = 0
    retries: int = 0
    bytes: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class RetryLater(Exception):
    """The message could not be handled now; ``why`` is logged once per change."""

    why: str


class Archiver:
    """Consumes ``clips.*`` until cancelled. ``clock``: wall-clock Unix ns."""

    def __init__(self, nc: NATS, store: ArchiveStore, config: ArchiveConfig, *,
                 backoff_cap_s: float = 5.0, clock: Callable[[], int] = time.time_ns) -> None:
        self._nc = nc
        self.store = store
        self.config = config
        self.stats = ArchiverStats()
        self._clock = clock
        self._backoff_cap_s = backoff_cap_s
        self._attempt = 0
        self._failing = ""
        self._calibration_failing: dict[str, str] = {}  # camera -> why its calibration is unreadable

    def _delay(self) -> float:
        """Full-jitter exponential backoff, capped at ``backoff_cap_s``."""
        ceiling = min(self._backoff_cap_s, 0.25 * 2.0 ** min(self._attempt, 30))
        self._attempt += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security

    async def run(self) -> None:
        await ensure_stream(self._nc, CLIPS)
        js = self._nc.jetstream()
        sub = await js.pull_subscribe(
            f"{CLIPS_PREFIX}.*", durable=DURABLE, stream=CLIPS_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_S, max_ack_pending=64))
        log.info("archiver: consuming %s into the %s archive", CLIPS_STREAM, self.store.kind)
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            try:
                msgs = await sub.fetch(1, timeout=2.0)
            except asyncio.TimeoutError:
                continue
            except NatsError as exc:
                log.debug("archiver: fetch failed: %s", exc)
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                await self._handle_with_retry(msg)

    async def _handle_with_retry(self, msg: Msg) -> None:
        try:
            await self.handle(msg)
        except RetryLater as exc:
            self.stats.retries += 1
            self.stats.last_error = exc.why
            delay = self._delay()
            if exc.why != self._failing:
                log.warning("archiver: %s; retrying with backoff (segments wait in NATS)", exc.why)
                self._failing = exc.why
            with contextlib.suppress(NatsError):
                await msg.nak(delay=delay)
            await asyncio.sleep(delay)
            return
        if self._failing:
            log.info("archiver: archiving again")
            self._failing = ""
        self._attempt = 0

    async def handle(self, msg: Msg) -> None:
        """Archive one message's segment; raises :class:`RetryLater` for transient failures."""
        try:
            segment = SegmentMessage.from_json(msg.data)
        except ContractError as exc:
            self.stats.malformed += 1
            log.error("archiver: malformed message on %s dropped: %s", msg.subject, exc)
            await msg.term()
            return
        pinger = asyncio.create_task(self._keep_alive(msg), name="archiver-in-progress")
        try:
            await self._archive(segment, msg)
        finally:
            pinger.cancel()

    async def _keep_alive(self, msg: Msg) -> None:
        while True:
            raise_if_cancelled()  # nats-py may have swallowed a cancel (courtside.kit.cancel)
            await asyncio.sleep(PROGRESS_EVERY_S)
            with contextlib.suppress(NatsError):
                await msg.in_progress()

    async def _archive(self, segment: SegmentMessage, msg: Msg) -> None:
        prefix = self.config.prefix
        key = layout.segment_key(prefix, segment.camera, segment.start_ns, segment.end_ns)
        side_key = layout.sidecar_key(key)
        existing = await self._stat(key)
        if existing is not None and await self._stat(side_key) is not None:
            if existing.size == segment.size and existing.crc32c == segment.crc32c:
                self.stats.verified_existing += 1
                log.info("%s: segment %s already archived and verified", segment.camera, segment.segment_id)
                await self._done(segment, msg)
                return
        try:
            data = await read_segment(self._nc, segment.object_key)
        except SegmentMissing as exc:
            self.stats.missing += 1
            self.stats.last_error = str(exc)
            log.error("%s: segment %s LOST: %s", segment.camera, segment.segment_id, exc)
            await msg.term()
            return
        except (SegmentUnreadable, NatsError, asyncio.TimeoutError) as exc:
            raise RetryLater(f"reading {segment.segment_id} from NATS: {exc}") from None
        problems = self._check(segment, data)
        if problems:
            self.stats.corrupt += 1
            self.stats.last_error = f"{segment.segment_id}: {problems}"
            log.error("%s: segment %s is corrupt and NOT archived: %s", segment.camera,
                      segment.segment_id, "; ".join(problems))
            try:
                await delete_segment(self._nc, segment.object_key)
            except (NatsError, NatsUnavailable, asyncio.TimeoutError) as exc:
                log.warning("%s: corrupt copy of %s left in NATS (%s)", segment.camera, segment.segment_id, exc)
            await msg.term()
            return
        try:
            found = await sidecar.read_lines(self._nc, segment, self.config.annotation_grace_s, self._clock)
        except (NatsError, asyncio.TimeoutError) as exc:
            raise RetryLater(f"reading annotations of {segment.segment_id}: {exc}") from None
        annotations = found.annotations
        court = await self._calibration(segment.camera)
        metadata = {"camera": segment.camera, "segment_id": segment.segment_id,
                    "start_ns": str(segment.start_ns), "end_ns": str(segment.end_ns),
                    "codec": segment.codec, "models": sidecar.model_names(annotations)}
        # The sidecar goes first: an archived .mp4 always has its sidecar beside it, so a
        # reader (replay, export, a test) that sees the video never finds it half-archived.
        try:
            await self._put(side_key, sidecar.build(segment, annotations, court, found.analytics),
                            "application/x-ndjson", metadata)
        except ArchiveConflict:  # rebuilt after the stream aged out some annotations: keep the first
            log.info("%s: sidecar of %s already archived (kept as it is)", segment.camera, segment.segment_id)
        try:
            await self._put(key, data, "video/mp4", metadata)
        except ArchiveConflict:
            await msg.term()  # the archived object stays; this copy is reported, not written
            return
        self.stats.archived += 1
        self.stats.bytes += len(data)
        await self._done(segment, msg)

    async def _calibration(self, camera: str) -> dict[str, Any] | None:
        """The header's calibration of ``camera``; an unreadable one is counted and the header says null."""
        found = await calibration.read_calibration(self._nc, camera)
        if not isinstance(found, calibration.Unreadable):
            if self._calibration_failing.pop(camera, None) is not None:
                log.info("%s: calibration readable again for the sidecars", camera)
            return found
        self.stats.calibration_unreadable += 1
        if self._calibration_failing.get(camera) != found.why:
            log.warning("%s: sidecars archived without the calibration: %s", camera, found.why)
            self._calibration_failing[camera] = found.why
        return None

    def _check(self, segment: SegmentMessage, data: bytes) -> list[str]:
        issues = clips.segment_problems(data)
        if len(data) != segment.size:
            issues.append(f"{len(data)} bytes, the message says {segment.size}")
        crc = crc32c_of(data)
        if crc != segment.crc32c:
            issues.append(f"CRC-32C {crc:#010x}, the message says {segment.crc32c:#010x}")
        return issues

    async def _stat(self, key: str) -> ObjectStat | None:
        try:
            return await asyncio.to_thread(self.store.stat, key)
        except ArchiveUnavailable as exc:
            raise RetryLater(str(exc)) from None

    async def _put(self, key: str, data: bytes, content_type: str, metadata: dict[str, str]) -> None:
        try:
            await asyncio.to_thread(self.store.put_new, key, data, content_type, metadata)
        except ArchiveConflict:
            if content_type == "video/mp4":
                self.stats.last_error = f"{key}: exists with other content"
                log.error("archiver: %s exists with other content; never overwritten", key)
            raise
        except ArchiveUnavailable as exc:
            raise RetryLater(str(exc)) from None
        except ArchiveError as exc:  # refused (permissions): retried, and reported
            raise RetryLater(str(exc)) from None

    async def _done(self, segment: SegmentMessage, msg: Msg) -> None:
        """Free the object store's copy, then ack.

        In this order nothing leaks: a failed free, a crash or a cancel before the ack
        redelivers the message, which finds the segment archived and verified and frees
        again (absent is fine). Acking first would leave the copy behind for good whenever
        the free failed or the archiver stopped between the two.
        """
        try:
            await delete_segment(self._nc, segment.object_key)
        except (NatsError, NatsUnavailable, asyncio.TimeoutError) as exc:
            raise RetryLater(f"freeing {segment.segment_id} in NATS: {exc}") from None
        try:
            await msg.ack_sync(timeout=5.0)
        except (NatsError, asyncio.TimeoutError) as exc:
            # Redelivered later and then found archived and verified: no loss, no duplicate.
            log.warning("%s: ack of %s failed (%s)", segment.camera, segment.segment_id, exc)

