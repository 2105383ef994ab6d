"""Recording of a WHIP publisher: H.264 access units relayed as they are, anything else encoded once.

No aiortc here (the aiortc seam is :mod:`ingest.whip_recording`). Two inputs, both on the
event loop and never blocking it: :meth:`WhipRecorder.access_unit` (an H.264 publisher:
the Annex-B access units aiortc reassembled, with their RTP timestamp) and
:meth:`WhipRecorder.frame` (a VP8 publisher: aiortc's decoded frames, encoded here once
to H.264 with libx264, one slice per frame, an IDR every ``fragment_s``). Both cross to
the named thread ``whip-rec-<camera>`` through a bounded queue; a full queue drops the
newest item, counts it (``stats.dropped``) and the relay waits for the next keyframe, as a
dropped access unit breaks the references of those after it.

Times: RTP timestamps at 90 kHz, already unwrapped by aiortc (its ``TimestampMapper``,
origin 0 at the session's first frame): the same numbers aiortc gives the decoded frames
as ``pts``, so the segment's pts and the frame publisher's seq index agree exactly.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import av
import av.error

from ingest.recording.h264_units import (
    NAL_PPS,
    NAL_SPS,
    FrameNumTracker,
    H264ParseError,
    Sps,
    annexb,
    nal_type,
    parse_access_unit,
)
from ingest.recording.recorder import CameraRecorder
from ingest.recording.remuxer import StreamSpec

log = logging.getLogger(__name__)

RTP_TIME_BASE = Fraction(1, 90_000)
#: Seconds between two keyframe requests (RTCP PLI) while the relay waits for a keyframe.
KEYFRAME_REQUEST_S = 1.0
#: Items between the event loop and the recording thread (about 2 s of 30 fps video).
QUEUE_DEPTH = 64
#: RTP ticks assumed for a frame whose successor never came (the last of a session): 30 fps.
DEFAULT_FRAME_TICKS = 3000


@dataclass(slots=True)
class WhipRecordingStats:
    """Counters of one WHIP session's recording (read by logs and tests)."""

    units: int = 0
    written: int = 0
    waiting_keyframe: int = 0
    broken: int = 0
    garbage: int = 0
    dropped: int = 0
    keyframe_requests: int = 0
    encoded: int = 0
    encode_errors: int = 0


class H264Relay:
    """Access units -> packets of the camera's :class:`CameraRecorder` (one thread; pure but for it).

    Starts at an IDR with known SPS/PPS; a lost reference (a ``frame_num`` gap), an
    unparsable unit or a dropped one closes the segment and waits for the next IDR,
    asking the publisher for one. A changed SPS/PPS starts a new segment. Each packet is
    held until the next so its duration is exact (the next timestamp minus its own).
    A WebRTC sender makes keyframes mostly when asked (a browser's interval is long), so
    one is also asked for once the open segment reached ``segment_s`` or a flush waits.
    """

    def __init__(self, recorder: CameraRecorder, stats: WhipRecordingStats,
                 request_keyframe: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._recorder = recorder
        self._stats = stats
        self._request = request_keyframe
        self._clock = clock
        self._params: tuple[bytes, ...] = ()
        self._sps: Sps | None = None
        self._spec: StreamSpec | None = None
        self._tracker = FrameNumTracker()
        self._waiting = True
        self._opened = False
        self._pending: tuple[bytes, int, bool] | None = None
        self._ticks = DEFAULT_FRAME_TICKS
        self._last_request = -KEYFRAME_REQUEST_S
        self._segment_ticks = round(recorder.options.segment_s * 90_000)
        self._segment_start: int | None = None

    def unit(self, data: bytes, timestamp: int) -> None:
        """One Annex-B access unit at RTP time ``timestamp`` (90 kHz ticks, unwrapped)."""
        self._stats.units += 1
        try:
            au = parse_access_unit(data)
        except (H264ParseError, IndexError):
            self._stats.garbage += 1
            self._recorder.stats.skipped += 1
            self.break_chain()
            return
        if au.first_slice is None:
            return  # parameter sets or SEI alone: kept for the next IDR
        if au.keyframe:
            self._update_params(au.params)
        if self._sps is None or (self._waiting and not au.keyframe):
            self._stats.waiting_keyframe += 1
            self._recorder.stats.skipped += 1
            self._ask_keyframe()
            return
        if not self._tracker.intact(au, self._sps):
            self._stats.broken += 1
            self._recorder.stats.skipped += 1
            self.break_chain()
            self._ask_keyframe()
            return
        if self._waiting or not self._opened:
            assert self._spec is not None
            self._recorder.opened(self._spec)
            self._waiting, self._opened = False, True
            self._segment_start = timestamp
        elif au.keyframe and self._segment_start is not None and (
                timestamp - self._segment_start >= self._segment_ticks or self._recorder.flush_requested):
            self._segment_start = timestamp  # the cutter closes the segment at this keyframe
        elif not au.keyframe and self._segment_start is not None and (
                timestamp - self._segment_start >= self._segment_ticks or self._recorder.flush_requested):
            self._ask_keyframe()
        self._emit(data, timestamp, au.keyframe)

    def break_chain(self) -> None:
        """The chain of references is broken: close the segment, wait for the next IDR."""
        self.finish()
        self._waiting = True
        self._tracker.reset()

    def finish(self) -> None:
        """The session ended: write the held packet and close the segment."""
        self._flush_pending(None)
        if self._opened:
            self._recorder.ended()
            self._opened = False

    def _update_params(self, params: tuple[bytes, ...]) -> None:
        sps_units = [u for u in params if nal_type(u) == NAL_SPS]
        pps_units = [u for u in params if nal_type(u) == NAL_PPS]
        if not sps_units or not pps_units:
            return  # an IDR without in-band parameter sets: the last ones still hold
        new = (sps_units[-1], pps_units[-1])
        if new == self._params:
            return
        try:
            sps = parse_access_unit(annexb(new)).sps
        except (H264ParseError, IndexError):
            return
        if sps is None:
            return
        if self._opened:
            self.break_chain()  # new picture size or profile: a new segment with a new avcC
        self._params, self._sps = new, sps
        self._spec = StreamSpec("h264", sps.width, sps.height, annexb(new), RTP_TIME_BASE)
        log.info("%s: H.264 %dx%d from the publisher", self._recorder.camera, sps.width, sps.height)

    def _emit(self, data: bytes, timestamp: int, keyframe: bool) -> None:
        self._flush_pending(timestamp)
        self._pending = (data, timestamp, keyframe)

    def _flush_pending(self, next_ts: int | None) -> None:
        if self._pending is None:
            return
        data, ts, keyframe = self._pending
        self._pending = None
        if next_ts is not None and next_ts > ts:
            self._ticks = next_ts - ts
        packet = cast("av.Packet[av.video.stream.VideoStream]", av.Packet(data))
        packet.pts = packet.dts = ts
        packet.time_base = RTP_TIME_BASE
        packet.duration = self._ticks
        packet.is_keyframe = keyframe
        self._recorder.packet(packet)
        self._stats.written += 1

    def _ask_keyframe(self) -> None:
        now = self._clock()
        if now - self._last_request >= KEYFRAME_REQUEST_S:
            self._last_request = now
            self._stats.keyframe_requests += 1
            self._request()


class OnceEncoder:
    """Decoded frames -> H.264 access units (Annex B, SPS/PPS in-band on every IDR) with libx264.

    One slice per frame (``slices=1``, one thread), no B-frames (``tune=zerolatency``), an
    IDR forced at the first frame and then every ``keyframe_s`` of pts (seconds), so a
    segment can start at each fragment; scene-cut keyframes are off. Frame times are kept:
    each output unit carries its input frame's pts in RTP ticks. Preset ``ultrafast``: at
    720p30 it cost 0.15 of a core against 0.39 for ``veryfast`` (bench/archive_cost.py
    ``--whip-only``, 2-core VM under load; the relay of H.264 costs 0.012).
    """

    def __init__(self, keyframe_s: float, preset: str = "ultrafast") -> None:
        self._keyframe_ticks = max(1, round(keyframe_s * 90_000))
        self._preset = preset
        self._ctx: av.video.codeccontext.VideoCodecContext | None = None
        self._next_key = 0
        self._last_pts: int | None = None

    def _open(self, width: int, height: int) -> av.video.codeccontext.VideoCodecContext:
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = RTP_TIME_BASE
        ctx.thread_count = 1
        ctx.options = {"preset": self._preset, "tune": "zerolatency",
                       "x264-params": "keyint=infinite:scenecut=0:slices=1:repeat-headers=1"}
        self._next_key = 0
        return ctx

    def encode(self, frame: av.VideoFrame, pts: int) -> list[tuple[bytes, int]]:
        """The access units (bytes, pts ticks) that ``frame`` (at ``pts`` ticks) yields."""
        if self._last_pts is not None and pts <= self._last_pts:
            return []  # x264 needs increasing times; a repeated timestamp is not a new frame
        width, height = frame.width & ~1, frame.height & ~1
        if self._ctx is None or (self._ctx.width, self._ctx.height) != (width, height):
            self._ctx = self._open(width, height)
        if frame.format.name != "yuv420p" or (frame.width, frame.height) != (width, height):
            frame = frame.reformat(width=width, height=height, format="yuv420p")
        frame.pts, frame.time_base = pts, RTP_TIME_BASE
        if self._next_key == 0 or pts >= self._next_key:
            frame.pict_type = av.video.frame.PictureType.I
            self._next_key = pts + self._keyframe_ticks
        else:
            frame.pict_type = av.video.frame.PictureType.NONE
        self._last_pts = pts
        return [(bytes(p), p.pts) for p in self._ctx.encode(frame) if p.pts is not None]

    def reset(self) -> None:
        self._ctx = None
        self._last_pts = None


class WhipRecorder:
    """Records one WHIP session of ``recorder``'s camera in thread ``whip-rec-<camera>``.

    ``relay``: the publisher sends H.264 (feed :meth:`access_unit`); otherwise feed
    :meth:`frame` and it is encoded once. ``request_keyframe`` must be callable from any
    thread (the session sends an RTCP PLI on the loop).
    """

    def __init__(self, recorder: CameraRecorder, relay: bool,
                 request_keyframe: Callable[[], None] = lambda: None, depth: int = QUEUE_DEPTH) -> None:
        self.camera = recorder.camera
        self.relay_mode = relay
        self.stats = WhipRecordingStats()
        self._relay = H264Relay(recorder, self.stats, request_keyframe)
        self._recorder_stats = recorder.stats
        self._dropped_seen = 0
        self._encoder = None if relay else OnceEncoder(recorder.options.fragment_s)
        self._queue: queue.Queue[tuple[bytes, int] | tuple[av.VideoFrame, int] | None] = queue.Queue(depth)
        self._overflowed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"whip-rec-{self.camera}", daemon=True)
        self._thread.start()

    def access_unit(self, data: bytes, timestamp: int) -> None:
        """From the event loop: one H.264 access unit at ``timestamp`` (90 kHz, unwrapped)."""
        if self.relay_mode:
            self._put((data, timestamp))

    def frame(self, frame: av.VideoFrame) -> None:
        """From the event loop: one decoded frame (pts in ``frame.time_base``) to encode once."""
        if self.relay_mode or frame.pts is None or frame.time_base is None:
            return
        self._put((frame, round(frame.pts * frame.time_base * 90_000)))

    def _put(self, item: tuple[bytes, int] | tuple[av.VideoFrame, int]) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.stats.dropped += 1
            self._overflowed = True

    def stop(self) -> None:
        """Finish: what is queued is recorded, the open segment closed (join to wait)."""
        self._stop.set()
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # the thread sees the event after the queue drains

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.2)
                except queue.Empty:
                    if self._stop.is_set():
                        return
                    continue
                if item is None:
                    return
                if self._overflowed:
                    self._overflowed = False
                    dropped = self.stats.dropped
                    self._recorder_stats.skipped += dropped - self._dropped_seen
                    self._dropped_seen = dropped
                    self._relay.break_chain()
                self._handle(item)
        except Exception:  # recording must never take the session down
            log.exception("%s: WHIP recording failed; it stops for this session", self.camera)
        finally:
            self._relay.finish()
            log.info("%s: WHIP recording ended: %s", self.camera, self.stats)

    def _handle(self, item: tuple[bytes, int] | tuple[av.VideoFrame, int]) -> None:
        payload, ts = item
        if isinstance(payload, bytes):
            self._relay.unit(payload, ts)
            return
        assert self._encoder is not None
        try:
            units = self._encoder.encode(payload, ts)
        except (av.error.FFmpegError, ValueError) as exc:
            self.stats.encode_errors += 1
            log.warning("%s: H.264 encode of a WHIP frame failed (%s); encoder restarted", self.camera, exc)
            self._encoder.reset()
            self._relay.break_chain()
            return
        for data, pts in units:
            self.stats.encoded += 1
            self._relay.unit(data, pts)
