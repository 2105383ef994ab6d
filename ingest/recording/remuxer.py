"""One segment file: the camera's own packets remuxed into fragmented MP4 with PyAV (no re-encode).

The PyAV error boundary of recording: every FFmpeg/OS error while writing becomes a
:class:`RecordingError` that names the camera's segment, never the source URL.

Fragments (``moof``+``mdat``) are cut every ``fragment_s`` seconds whether or not a
keyframe is there (``movflags=empty_moov+default_base_moof``, ``frag_duration``;
``frag_keyframe`` would stretch fragments to whole GOPs), and the moov is written first, so a crash loses at most the fragment being written
(:func:`courtside_contracts.clips.playable_prefix` finds what survived). Packet times
are rebased so that the file's media time starts at 0; ``pts_origin`` keeps the
source time of media time 0. Cost measured on the 2-core VM: about 18 us per
packet (0.05% of a core for 30 fps), one write per fragment: cheap enough for the
decode thread, so no extra thread hand-off is paid per packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import google_crc32c
from courtside_contracts import clips

#: Source codecs recorded as they are.
RECORDABLE = frozenset({"h264", "hevc"})


class RecordingError(Exception):
    """A segment could not be written; the message says which and why (no URL)."""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """An H.264 stream that comes from no demuxer (WHIP): ``extradata`` is its SPS and PPS in
    Annex-B form (FFmpeg's MP4 muxer builds ``avcC`` from it and turns Annex-B packets into
    length-prefixed ones); ``width``/``height`` pixels; packet times in ``time_base`` (RTP: 1/90000)."""

    codec: str
    width: int
    height: int
    extradata: bytes
    time_base: Fraction = Fraction(1, 90_000)


#: What a segment is written from: a demuxed input stream, or a :class:`StreamSpec`.
Template = av.video.stream.VideoStream | StreamSpec


def recordable_codec(stream: Template) -> str | None:
    """The FFmpeg codec name when packets of ``stream`` can be remuxed as they are, else None."""
    name = stream.codec if isinstance(stream, StreamSpec) else stream.codec_context.name
    return name if name in RECORDABLE else None


@dataclass(frozen=True, slots=True)
class WrittenSegment:
    """A closed segment file. Times: ``pts_origin``/``pts_end`` source seconds; ``size`` bytes."""

    path: Path
    codec: str
    width: int
    height: int
    pts_origin: float
    pts_end: float
    packets: int
    size: int
    fragments: int
    crc32c: int


def crc32c_of(data: bytes | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data`` as an unsigned int: the checksum GCS keeps."""
    return int(google_crc32c.value(bytes(data)))


class SegmentWriter:
    """Writes packets of one input stream into ``path`` (created; the caller owns the name)."""

    def __init__(self, path: Path, template: Template, fragment_s: float) -> None:
        codec = recordable_codec(template)
        if codec is None:
            raise RecordingError(f"{path.name}: codec {codec_name(template)} is not recorded as is")
        self.path = path
        self.codec = codec
        if isinstance(template, StreamSpec):
            self.width, self.height = template.width, template.height
        else:
            self.width, self.height = template.codec_context.width, template.codec_context.height
        self._time_base: Fraction = template.time_base or Fraction(1, 90_000)
        options = {"movflags": "empty_moov+default_base_moof",
                   "frag_duration": str(int(fragment_s * 1_000_000)), "flush_packets": "1"}
        try:
            self._out = av.open(str(path), "w", format="mp4", options=options)
            self._stream = self._add_stream(template)
        except Exception as exc:
            raise RecordingError(f"{path.name}: cannot create the segment ({_why(exc)})") from None
        self._origin: int | None = None
        self._end = 0
        self.packets = 0

    def _add_stream(self, template: Template) -> av.video.stream.VideoStream:
        if not isinstance(template, StreamSpec):
            return self._out.add_stream_from_template(template)
        stream = self._out.add_stream(template.codec)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height = template.width, template.height
        stream.time_base = template.time_base
        stream.codec_context.extradata = template.extradata
        return stream

    @property
    def pts_origin(self) -> float:
        return float((self._origin or 0) * self._time_base)

    def write(self, packet: av.Packet[av.video.stream.VideoStream]) -> None:
        """Append one demuxed packet (decode order); it must not be used by the caller afterwards."""
        if packet.pts is None and packet.dts is None:
            return  # no time: cannot be placed in the file
        pts: int = packet.pts if packet.pts is not None else packet.dts  # type: ignore[assignment]
        dts: int = packet.dts if packet.dts is not None else pts
        if self._origin is None:
            self._origin = min(pts, dts)
        self._end = max(self._end, pts + max(packet.duration or 0, 0))
        packet.pts, packet.dts = pts - self._origin, dts - self._origin
        packet.stream = self._stream
        try:
            self._out.mux(packet)
        except Exception as exc:
            raise RecordingError(f"{self.path.name}: write failed ({_why(exc)})") from None
        self.packets += 1

    def close(self) -> WrittenSegment:
        """Finish the file and checksum it (reads it back: a few MB from the page cache)."""
        try:
            self._out.close()
        except Exception as exc:
            raise RecordingError(f"{self.path.name}: close failed ({_why(exc)})") from None
        data = self.path.read_bytes()
        return WrittenSegment(
            path=self.path, codec=self.codec, width=self.width, height=self.height,
            pts_origin=self.pts_origin, pts_end=float(self._end * self._time_base),
            packets=self.packets, size=len(data), fragments=clips.fragment_count(data), crc32c=crc32c_of(data))

    def abort(self) -> None:
        """Close without caring for the result (the file is removed by the caller)."""
        try:
            self._out.close()
        except Exception:  # noqa: S110 - a broken writer being discarded
            pass


def probe_segment(path: Path) -> tuple[float, float, int, int, int, str] | None:
    """(pts_origin, pts_end, packets, width, height, codec) of a salvaged file read with PyAV,
    or None when nothing in it plays. Times are the file's media seconds (origin 0)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            codec = recordable_codec(stream)
            tb = stream.time_base or Fraction(1, 90_000)
            first: int | None = None
            end, count = 0, 0
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                first = packet.pts if first is None else min(first, packet.pts)
                end = max(end, packet.pts + (packet.duration or 0))
                count += 1
            if first is None or codec is None:
                return None
            return (float(first * tb), float(end * tb), count, stream.codec_context.width,
                    stream.codec_context.height, codec)
    except Exception:  # a salvage that does not parse is simply not salvaged
        return None


def codec_name(template: Template) -> str:
    return template.codec if isinstance(template, StreamSpec) else template.codec_context.name


def _why(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__
