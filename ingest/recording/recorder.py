"""The recorder of one camera, driven by its worker thread: packets in, closed segments to the spool.

The worker calls :meth:`CameraRecorder.opened` when a source opens, :meth:`packet`
with every demuxed packet after it was decoded, and :meth:`ended` when the source
closes (end of file, disconnect): the open segment is then closed, so a reconnect
always starts a fresh, keyframe-aligned segment. Recording never stops the live
path: a write error drops the segment being written (counted, reported in
``stats.reason``) and recording resumes at the next keyframe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
from courtside_contracts.clips import segment_id

from ingest.recording.cutter import Cut, SegmentCutter
from ingest.recording.remuxer import RecordingError, SegmentWriter, Template, codec_name, recordable_codec
from ingest.recording.spool import Spool, SpooledSegment

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RecordingStats:
    """Counters of one camera's recording (read by metrics and the camera status)."""

    segments: int = 0
    failed: int = 0
    shipped: int = 0
    ship_failures: int = 0
    evicted: int = 0
    reason: str = ""
    recording: bool = False
    last_evict_reason: str = ""
    #: Frames not recorded because their chain of references broke (WHIP: RTP loss, garbage, a
    #: full recording queue, a start without a keyframe); recording resumed at the next keyframe.
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class RecordingOptions:
    """``segment_s``: target segment length, ``fragment_s``: fragment length (seconds)."""

    segment_s: float = 10.0
    fragment_s: float = 1.0


class CameraRecorder:
    """Cuts one camera's packet stream into segments in its :class:`Spool`.

    ``clock`` returns wall-clock Unix ns (the unit of ``start_ns``); it is read once per
    segment, at its first packet.
    """

    def __init__(self, camera: str, spool: Spool, options: RecordingOptions,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.camera = camera
        self.spool = spool
        self.options = options
        self.stats = RecordingStats()
        self._clock = clock
        self._cutter = SegmentCutter(segment_s=options.segment_s)
        self._stream: Template | None = None
        self._writer: SegmentWriter | None = None
        self._start_ns = 0
        self._last_start_ns = 0
        self._flush = threading.Event()

    def request_flush(self) -> None:
        """Close the open segment at its next keyframe (any thread)."""
        self._flush.set()

    @property
    def flush_requested(self) -> bool:
        """Whether a flush waits for the next keyframe (a WHIP relay then asks the publisher for one)."""
        return self._flush.is_set() or self._cutter.flush_pending

    def opened(self, stream: Template) -> None:
        """A source opened (or its parameters changed: a WHIP publisher's new SPS)."""
        codec = recordable_codec(stream)
        if codec is None:
            self._stream = None
            self.stats.recording = False
            self.stats.reason = (f"not recording: source codec {codec_name(stream)} "
                                 "(only h264/hevc are recorded without re-encoding)")
            log.warning("%s: %s", self.camera, self.stats.reason)
            return
        self._stream = stream
        self._cutter.reset()
        self.stats.recording, self.stats.reason = True, ""

    def packet(self, packet: av.Packet[av.video.stream.VideoStream]) -> None:
        """One demuxed packet in decode order (the caller no longer uses it)."""
        if self._stream is None or packet.size == 0:
            return
        t = packet.dts if packet.dts is not None else packet.pts
        if t is None or packet.time_base is None:
            return
        if self._flush.is_set():
            self._flush.clear()
            self._cutter.flush()
        t_s = float(t * packet.time_base)
        continuous = self._cutter.last_s is not None and 0 <= t_s - self._cutter.last_s <= self._cutter.max_gap_s
        cut = self._cutter.packet(t_s, bool(packet.is_keyframe))
        end_ns = self._close() if cut in (Cut.CLOSE, Cut.CLOSE_OPEN) else None
        if cut in (Cut.OPEN, Cut.CLOSE_OPEN):
            # A segment cut out of a continuous stream starts where the previous one ended, so
            # wall times abut exactly (the clock is read when a packet is demuxed, which for a
            # paced file is up to a frame before its time).
            self._open(end_ns if cut is Cut.CLOSE_OPEN and continuous else None)
        if cut in (Cut.OPEN, Cut.CLOSE_OPEN, Cut.APPEND) and self._writer is not None:
            try:
                self._writer.write(packet)
            except RecordingError as exc:
                self._fail(exc)

    def ended(self) -> None:
        """The source closed: finish the open segment."""
        self._close()
        self._cutter.reset()
        self._stream = None

    def _open(self, start_ns: int | None = None) -> None:
        assert self._stream is not None
        # Ids must be unique and increasing even if the wall clock steps back.
        self._start_ns = max(self._clock() if start_ns is None else start_ns, self._last_start_ns + 1)
        self._last_start_ns = self._start_ns
        seg_id = segment_id(self.camera, self._start_ns)
        try:
            self._writer = SegmentWriter(self.spool.part_path(seg_id), self._stream, self.options.fragment_s)
        except RecordingError as exc:
            self._fail(exc)

    def _close(self) -> int | None:
        """Close the open segment; returns its end (Unix ns) when it was spooled."""
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        seg_id = writer.path.name.removesuffix(".mp4.part")
        try:
            written = writer.close()
        except RecordingError as exc:
            self._fail(exc, writer)
            return None
        if written.packets == 0 or written.pts_end <= written.pts_origin:
            writer.path.unlink(missing_ok=True)
            return None
        duration_ns = round((written.pts_end - written.pts_origin) * 1e9)
        segment = SpooledSegment(
            segment_id=seg_id, camera=self.camera, start_ns=self._start_ns,
            end_ns=self._start_ns + duration_ns, codec=written.codec, width=written.width,
            height=written.height, pts_origin=written.pts_origin, pts_end=written.pts_end,
            size=written.size, fragments=written.fragments, crc32c=written.crc32c, closed_ns=self._clock())
        try:
            self.spool.add(segment, self._clock())
        except OSError as exc:
            self._fail(RecordingError(f"{seg_id}: cannot spool ({exc.strerror or exc})"))
            return None
        self.stats.segments += 1
        return segment.end_ns

    def _fail(self, exc: RecordingError, writer: SegmentWriter | None = None) -> None:
        writer = writer or self._writer
        self._writer = None
        if writer is not None:
            writer.abort()
            writer.path.unlink(missing_ok=True)
        self.stats.failed += 1
        self.stats.reason = f"recording error: {exc}"
        log.warning("%s: %s; recording resumes at the next keyframe", self.camera, exc)
        self._cutter.reset()
