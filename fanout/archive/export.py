"""One MP4 out of several archived segments of a camera: no re-encode.

Each segment's media time starts at 0 and its wall-clock start is known, so a packet's
wall time is ``start_ns + t``. The export starts at the last keyframe at or before the
requested start (video can only start on a keyframe; the reply says where) and ends at
the first packet at or after the requested end. Output timestamps keep the wall-clock
spacing between segments, so a gap in the recording stays a gap in time.

Segments are concatenated at the byte level (:func:`concatenate`, :mod:`fanout.archive.fmp4`:
a few ms for a minute of video) as long as they share their track; where the codec
parameters change (a camera reconfigured between two connections) the export stops and
says so (``codec_change_ns``), since one MP4 track cannot switch them. A file the byte
reader does not take is remuxed with PyAV instead (:func:`remux`, ~10x slower). Blocking:
run it in a thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
from courtside_contracts.clips import IndexEntry, SegmentMessage

from fanout.archive import fmp4

log = logging.getLogger(__name__)


class ExportError(Exception):
    """The range holds no playable video, or a segment does not parse."""


@dataclass(frozen=True, slots=True)
class ExportedClip:
    """``start_ns``: wall time of the first (key)frame; ``end_ns``: of the end of the last frame;
    ``index``'s pts are media times of the file (with B-frames the first frame shows at its
    composition offset, as in the recorded segments, not at 0);
    ``index``: the published frames inside, with ``pts`` rewritten to the export's media time
    (seconds, origin 0) so the sidecar lines up with the file; ``method``: ``concat`` or ``remux``."""

    codec: str
    start_ns: int
    end_ns: int
    frames: int
    index: tuple[IndexEntry, ...]
    #: Bytes of the whole MP4 (known before any is produced: a Content-Length).
    size: int
    #: Produces the MP4 piece by piece (init, then one fragment at a time: one copy each).
    render: Callable[[], Iterator[bytes]]
    method: str = "remux"
    #: Where the camera's codec parameters changed (a reconnect to a reconfigured camera): the
    #: export stops there, as one MP4 track cannot switch resolution; ask again from there.
    codec_change_ns: int | None = None

    def chunks(self) -> Iterator[bytes]:
        return self.render()

    @property
    def data(self) -> bytes:
        """The whole MP4 in memory (a saved clip's upload; tests)."""
        return b"".join(self.render())


def export(segments: Sequence[tuple[SegmentMessage, bytes]], start_ns: int, end_ns: int) -> ExportedClip:
    """The frames of [start_ns, end_ns) from ``segments`` (sorted by start) as one MP4."""
    try:
        return concatenate(segments, start_ns, end_ns)
    except fmp4.Fmp4Error as exc:  # a shape the byte-level reader does not take: PyAV does
        log.warning("export: byte-level concatenation refused (%s); remuxing with PyAV", exc)
        return remux(segments, start_ns, end_ns)


def _index(segment: SegmentMessage, first_t: float, origin_ns: int, last_end_ns: int) -> list[IndexEntry]:
    """The index entries of ``segment`` from media time ``first_t`` (s) to before ``last_end_ns``,
    their pts rewritten to the export's media time (seconds from ``origin_ns``)."""
    out = []
    for entry in segment.index:
        t = entry.pts - segment.pts_origin
        wall = segment.start_ns + round(t * 1e9)
        if t >= first_t - 1e-6 and wall < last_end_ns:
            out.append(IndexEntry(entry.seq, (wall - origin_ns) / 1e9, entry.ts))
    return out


def concatenate(segments: Sequence[tuple[SegmentMessage, bytes]], start_ns: int, end_ns: int) -> ExportedClip:
    """The export by byte-level concatenation, up to the first change of codec parameters.
    Raises :class:`fmp4.Fmp4Error` on bytes it cannot read."""
    parsed = [(segment, fmp4.parse(data), memoryview(data)) for segment, data in segments
              if segment.end_ns > start_ns and segment.start_ns < end_ns]
    if not parsed:
        raise ExportError("no video in that range")
    track = parsed[0][1].track
    change = next((i for i, (_, p, _) in enumerate(parsed) if not fmp4.same_track(track, p.track)), None)
    codec_change_ns = None if change is None else parsed[change][0].start_ns
    parsed = parsed[:change]
    ts = track.timescale
    plan: list[list[fmp4.OutSample]] = []  # output fragments; sample bytes are views, not copies
    origin_ns: int | None = None
    first_ns = 0
    prev_end: int | None = None  # output decode time (ticks) where the last fragment ended
    last_end_ns = frames = 0
    index: list[IndexEntry] = []
    for segment, seg, view in parsed:
        def wall(ticks: int, seg_start: int = segment.start_ns) -> int:
            return seg_start + round(ticks * 1e9 / ts)

        flat = seg.samples
        first = 0
        if origin_ns is None:
            keys = [i for i, s in enumerate(flat) if s.sync and wall(s.presentation) <= start_ns]
            first = keys[-1] if keys else next((i for i, s in enumerate(flat) if s.sync), len(flat))
        # Decode order up to the last frame shown before the end (B-frames' references kept).
        last = max((i for i, s in enumerate(flat) if wall(s.presentation) < end_ns), default=-1)
        if last < first:
            continue
        chosen = flat[first:last + 1]
        if origin_ns is None:
            # Media time 0 of the output is the first frame's decode time, as in the recorded
            # segments: with B-frames the first picture shows at its composition offset.
            origin_ns, first_ns = wall(chosen[0].decode), wall(chosen[0].presentation)
        # Output time = wall-clock offset from the origin, so a gap stays a gap.
        shift = round((segment.start_ns - origin_ns) * ts / 1e9)
        if prev_end is not None:  # never a decode time going back (segments abutting by jitter)
            shift = max(shift, prev_end - chosen[0].decode)
        position = 0
        for fragment in seg.fragments:
            lo, hi = max(first - position, 0), min(last + 1 - position, len(fragment))
            position += len(fragment)
            if lo >= hi:
                continue
            plan.append([fmp4.OutSample(s.decode + shift, s.duration, s.cto, s.flags,
                                        view[s.offset:s.offset + s.size]) for s in fragment[lo:hi]])
        prev_end = chosen[-1].decode + shift + chosen[-1].duration
        frames += len(chosen)
        last_end_ns = max(last_end_ns, max(wall(s.presentation + s.duration) for s in chosen))
        index += _index(segment, chosen[0].presentation / ts, origin_ns, last_end_ns)
    if origin_ns is None or frames == 0:
        raise ExportError("no video in that range")
    init = fmp4.init_segment(track)

    def render() -> Iterator[bytes]:
        yield init
        for sequence, samples in enumerate(plan, 1):
            yield fmp4.fragment(sequence, track.track_id, samples)

    size = len(init) + sum(fmp4.fragment_size(samples) for samples in plan)
    return ExportedClip(parsed[0][0].codec, first_ns, last_end_ns, frames, tuple(index), size, render, "concat",
                        codec_change_ns)


def remux(segments: Sequence[tuple[SegmentMessage, bytes]], start_ns: int, end_ns: int) -> ExportedClip:
    """The export remuxed with PyAV (segments whose codec parameters differ)."""
    out_buf = io.BytesIO()
    output = av.open(out_buf, "w", format="mp4", options={"movflags": "empty_moov+default_base_moof+frag_keyframe"})
    out_stream = None
    origin_ns: int | None = None
    last_end_ns = 0
    frames = 0
    index: list[IndexEntry] = []
    codec = ""
    last_dts: int | None = None  # in the (shared) time base of the segments
    try:
        for segment, data in segments:
            if segment.end_ns <= start_ns or segment.start_ns >= end_ns:
                continue
            with av.open(io.BytesIO(data), "r") as container:
                stream = container.streams.video[0]
                tb: Fraction = stream.time_base or Fraction(1, 90_000)
                packets = [p for p in container.demux(stream) if p.size and p.pts is not None]
                chosen = _pick(packets, tb, segment.start_ns, start_ns if origin_ns is None else None, end_ns)
                if not chosen:
                    continue
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                    codec = stream.codec_context.name
                shift: int | None = None
                first_t = float(chosen[0].pts * tb) if chosen[0].pts is not None else 0.0  # before the shift below
                for packet in chosen:
                    assert packet.pts is not None
                    wall = segment.start_ns + round(float(packet.pts * tb) * 1e9)
                    if origin_ns is None:
                        origin_ns = wall
                    dts = packet.dts if packet.dts is not None else packet.pts
                    if shift is None:
                        # Wall-clock spacing between segments, but never a decode time going back
                        # (segments that overlap by a clock jitter are butted together instead).
                        shift = round((segment.start_ns - origin_ns) / 1e9 / tb)
                        if last_dts is not None:
                            shift = max(shift, last_dts + 1 - dts)
                    last_dts = dts + shift
                    last_end_ns = max(last_end_ns, wall + round(float((packet.duration or 0) * tb) * 1e9))
                    packet.pts, packet.dts = packet.pts + shift, dts + shift
                    packet.stream = out_stream
                    output.mux(packet)
                    frames += 1
                assert origin_ns is not None
                index += _index(segment, first_t, origin_ns, last_end_ns)
        output.close()
    except av.error.FFmpegError as exc:
        raise ExportError(f"a segment could not be remuxed: {exc.strerror or type(exc).__name__}") from None
    if origin_ns is None or frames == 0:
        raise ExportError("no video in that range")
    data = out_buf.getvalue()
    return ExportedClip(codec, origin_ns, last_end_ns, frames, tuple(index), len(data), lambda: iter((data,)))


def _pick(packets: list[av.Packet[av.video.stream.VideoStream]], tb: Fraction, seg_start_ns: int,
          start_ns: int | None, end_ns: int) -> list[av.Packet[av.video.stream.VideoStream]]:
    """The packets of one segment inside the export: from the keyframe at or before ``start_ns``
    (None: a later segment, from its start) to before ``end_ns``."""
    def wall(p: av.Packet[av.video.stream.VideoStream]) -> int:
        return seg_start_ns + round(float((p.pts or 0) * tb) * 1e9)

    first = 0
    if start_ns is not None:
        keys = [i for i, p in enumerate(packets) if p.is_keyframe and wall(p) <= start_ns]
        if keys:
            first = keys[-1]
        else:
            first = next((i for i, p in enumerate(packets) if p.is_keyframe), len(packets))
    return [p for p in packets[first:] if wall(p) < end_ns]
