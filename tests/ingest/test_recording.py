"""Recording without servers: the cutting policy, the fMP4 box check, and real remuxing of
generated H.264 through AvSource into keyframe-aligned fragmented MP4 segments."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import pytest
from courtside_contracts import clips

from ingest.av_source import AvSource, OpenOptions
from ingest.recording.cutter import Cut, SegmentCutter
from ingest.recording.recorder import CameraRecorder, RecordingOptions
from ingest.recording.spool import Spool, SpoolLimits
from tests.support.media import make_h264_clip

BIG = SpoolLimits(max_bytes=1 << 30, max_age_s=1e9)


def test_cutter_waits_for_keyframes_and_cuts_on_time() -> None:
    cut = SegmentCutter(segment_s=2.0)
    assert cut.packet(0.0, False) is Cut.SKIP
    assert cut.packet(0.1, True) is Cut.OPEN
    assert cut.packet(1.0, True) is Cut.APPEND       # keyframe, but not 2 s yet
    assert cut.packet(2.2, False) is Cut.APPEND      # due, but not a keyframe
    assert cut.packet(2.3, True) is Cut.CLOSE_OPEN   # due and a keyframe
    cut.flush()
    assert cut.packet(2.4, False) is Cut.APPEND
    assert cut.packet(2.5, True) is Cut.CLOSE_OPEN   # flushed at the next keyframe


def test_cutter_breaks_on_discontinuity() -> None:
    cut = SegmentCutter(segment_s=10.0, max_gap_s=2.0)
    assert cut.packet(5.0, True) is Cut.OPEN
    assert cut.packet(0.0, True) is Cut.CLOSE_OPEN   # rewound file: new segment at once
    assert cut.packet(0.1, False) is Cut.APPEND
    assert cut.packet(9.0, False) is Cut.CLOSE       # a jump on a non-keyframe: closed, then wait
    assert cut.packet(9.1, False) is Cut.SKIP
    assert cut.packet(9.2, True) is Cut.OPEN


def test_fmp4_checks_find_truncation() -> None:
    ftyp = (16).to_bytes(4, "big") + b"ftypisom" + b"\0" * 4
    moov = (8).to_bytes(4, "big") + b"moov"
    frag = (8).to_bytes(4, "big") + b"moof" + (12).to_bytes(4, "big") + b"mdat" + b"abcd"
    whole = ftyp + moov + frag + frag
    assert clips.segment_problems(whole) == []
    assert clips.fragment_count(whole) == 2
    assert clips.playable_prefix(whole[:-3]) == len(ftyp + moov + frag)
    assert clips.segment_problems(whole[:-3])
    assert clips.segment_problems(ftyp + moov) == ["no media fragments"]
    assert clips.playable_prefix(b"\0\0\0\x08junk") == 0


def record(clip: Path, spool: Spool, segment_s: float) -> CameraRecorder:
    recorder = CameraRecorder("cam", spool, RecordingOptions(segment_s=segment_s, fragment_s=0.5))
    with AvSource(str(clip), OpenOptions(live=False), packets=recorder) as source:
        frames = sum(1 for _ in source.frames())
    assert frames > 0
    return recorder


def ffprobe(path: Path) -> dict[str, str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=codec_name,nb_read_frames,duration", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True).stdout
    stream: dict[str, str] = json.loads(out)["streams"][0]
    return stream


def test_segments_are_keyframe_aligned_fragmented_and_complete(tmp_path: Path) -> None:
    clip = make_h264_clip(tmp_path / "in.mp4", frames=150, fps=30)  # keyframe every 30 frames
    spool = Spool("cam", tmp_path / "spool", BIG)
    recorder = record(clip, spool, segment_s=2.0)
    segments = spool.pending()
    assert recorder.stats.segments == len(segments) == 3
    counts = []
    for seg in segments:
        path = spool.media_path(seg.segment_id)
        data = path.read_bytes()
        assert clips.segment_problems(data) == []
        assert seg.fragments == clips.fragment_count(data) == round((seg.pts_end - seg.pts_origin) / 0.5)
        probe = ffprobe(path)
        assert probe["codec_name"] == "h264"
        counts.append(int(probe["nb_read_frames"]))
        with av.open(str(path)) as container:
            first = next(p for p in container.demux(container.streams.video[0]) if p.size)
            assert first.is_keyframe and first.pts == 0
        assert seg.end_ns - seg.start_ns == pytest.approx((seg.pts_end - seg.pts_origin) * 1e9, abs=1e3)
    assert counts == [60, 60, 30]
    assert [round(s.pts_origin, 3) for s in segments] == [0.0, 2.0, 4.0]
    assert [s.start_ns for s in segments] == sorted({s.start_ns for s in segments})


def test_crash_salvage_keeps_all_but_the_last_fragment(tmp_path: Path) -> None:
    clip = make_h264_clip(tmp_path / "in.mp4", frames=90, fps=30)
    spool = Spool("cam", tmp_path / "spool", BIG)
    record(clip, spool, segment_s=60.0)
    [seg] = spool.pending()
    data = spool.media_path(seg.segment_id).read_bytes()
    # A SIGKILL mid-write: the file ends inside its last fragment and has no metadata file.
    spool.part_path(seg.segment_id).write_bytes(data[:-500])
    spool.remove(seg.segment_id)
    fresh = Spool("cam", tmp_path / "spool", BIG)
    assert fresh.recover(seg.closed_ns) == [seg.segment_id]
    [salvaged] = fresh.pending()
    kept = fresh.media_path(seg.segment_id).read_bytes()
    assert salvaged.salvaged and clips.segment_problems(kept) == []
    assert salvaged.fragments == seg.fragments - 1
    frames = int(ffprobe(fresh.media_path(seg.segment_id))["nb_read_frames"])
    assert 90 - 15 - 1 <= frames < 90  # lost at most the last 0.5 s fragment (15 frames)


def test_spool_drops_oldest_first_and_counts(tmp_path: Path) -> None:
    clip = make_h264_clip(tmp_path / "in.mp4", frames=150, fps=30)
    lost: list[tuple[str, str, str]] = []
    spool = Spool("cam", tmp_path / "spool", BIG, on_evict=lambda *a: lost.append(a))
    record(clip, spool, segment_s=2.0)
    segments = spool.pending()
    spool.limits = SpoolLimits(max_bytes=segments[-1].size + segments[-2].size, max_age_s=1e9)
    assert spool.enforce(segments[-1].closed_ns) == 1
    assert [s.segment_id for s in spool.pending()] == [s.segment_id for s in segments[1:]]
    assert spool.evicted == 1 and lost[0][1] == segments[0].segment_id and "bytes" in lost[0][2]
    assert not spool.media_path(segments[0].segment_id).exists()
    spool.limits = SpoolLimits(max_bytes=1 << 30, max_age_s=0.0)
    assert spool.enforce(segments[-1].start_ns + 10**9) == 2
    assert "older" in lost[-1][2] and spool.evicted == 3
