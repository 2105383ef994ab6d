"""The WHIP H.264 relay with plain data: real libx264 access units, a real recorder and spool, no
servers. A stream starting mid-GOP, lost references, garbage, RTP timestamp wrap and a size change."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc import RTCPeerConnection
from aiortc.codecs import get_capabilities
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpreceiver import TimestampMapper

from ingest.recording.h264_units import FrameNumTracker, parse_access_unit, parse_sps, split_nal_units
from ingest.recording.recorder import CameraRecorder, RecordingOptions
from ingest.recording.spool import Spool, SpoolLimits
from ingest.recording.whip_recorder import H264Relay, OnceEncoder, WhipRecorder, WhipRecordingStats
from ingest.whip_recording import TapQueue, tap_receiver

TICKS = 3000  # 30 fps at 90 kHz


def units(count: int, width: int = 320, height: int = 240, keyframe_s: float = 0.5) -> list[tuple[bytes, int]]:
    """``count`` H.264 access units (an IDR every ``keyframe_s``) with their pts ticks."""
    enc = OnceEncoder(keyframe_s)
    out: list[tuple[bytes, int]] = []
    for i in range(count):
        img = np.zeros((height, width, 3), np.uint8)
        img[:, (i * 4) % (width - 20):(i * 4) % (width - 20) + 20] = 200
        out += enc.encode(av.VideoFrame.from_ndarray(img, format="bgr24"), i * TICKS)
    return out


class Relayed:
    def __init__(self, tmp: Path, segment_s: float = 60.0) -> None:
        self.spool = Spool("cam", tmp / "spool", SpoolLimits(1 << 30, 1e9))
        self.recorder = CameraRecorder("cam", self.spool, RecordingOptions(segment_s=segment_s, fragment_s=0.5))
        self.stats = WhipRecordingStats()
        self.asked = 0
        self.relay = H264Relay(self.recorder, self.stats, self._ask, clock=lambda: float(self.asked * 10))

    def _ask(self) -> None:
        self.asked += 1

    def segments(self) -> list[tuple[str, int, int, int, float]]:
        """(codec, frames decoded, width, height, first frame's source pts in s) of each spooled segment."""
        got = []
        for seg in self.spool.pending():
            path = self.spool.media_path(seg.segment_id)
            out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                  "stream=codec_name,nb_read_frames,width,height", "-of", "json", str(path)],
                                 capture_output=True, text=True, check=True, timeout=30).stdout
            s = json.loads(out)["streams"][0]
            with av.open(str(path)) as c:
                decoded = sum(1 for _ in c.decode(video=0))
            assert decoded == int(s["nb_read_frames"])
            got.append((s["codec_name"], decoded, int(s["width"]), int(s["height"]), seg.pts_origin))
        return got


def test_sps_gives_the_cropped_picture_size() -> None:
    for width, height in [(320, 240), (320, 180), (1280, 720)]:
        data, _ = units(1, width, height)[0]
        [sps] = [u for u in split_nal_units(data) if u[0] & 0x1F == 7]
        parsed = parse_sps(sps)
        assert (parsed.width, parsed.height) == (width, height)
        au = parse_access_unit(data)
        assert au.keyframe and au.sps == parsed and len(au.params) == 2


def test_frame_num_gap_is_a_lost_reference() -> None:
    stream = units(10)
    aus = [parse_access_unit(d) for d, _ in stream]
    sps = aus[0].sps
    assert sps is not None
    tracker = FrameNumTracker()
    assert all(tracker.intact(au, sps) for au in aus[:5])
    assert not tracker.intact(aus[6], sps)  # aus[5] never arrived
    tracker.reset()
    assert not tracker.intact(aus[7], sps)  # no IDR since


def test_stream_starting_mid_gop_waits_for_a_keyframe_and_asks(tmp_path: Path) -> None:
    r = Relayed(tmp_path)
    stream = units(45)  # IDRs at 0, 15, 30
    for data, ts in stream[5:]:
        r.relay.unit(data, ts)
    r.relay.finish()
    assert r.stats.waiting_keyframe == 10 and r.asked >= 1
    [(codec, frames, w, h, origin)] = r.segments()
    assert (codec, frames, w, h) == ("h264", 30, 320, 240)
    assert origin == 15 * TICKS / 90_000  # the segment starts at the IDR, in RTP time


def test_lost_reference_closes_the_segment_until_the_next_keyframe(tmp_path: Path) -> None:
    r = Relayed(tmp_path)
    stream = units(60)  # IDRs at 0, 15, 30, 45
    for i, (data, ts) in enumerate(stream):
        if i != 20:  # a P frame lost mid-GOP
            r.relay.unit(data, ts)
    r.relay.finish()
    assert r.stats.broken == 1 and r.asked >= 1
    assert r.recorder.stats.skipped == 9  # the frame after the loss and the 8 before the next IDR
    got = r.segments()
    # Frames 0-19 in one segment, 21-29 not recorded (they reference the lost one), 30-59 in the next.
    assert [(f, o) for _c, f, _w, _h, o in got] == [(20, 0.0), (30, 30 * TICKS / 90_000)]


def test_garbage_and_truncated_units_do_not_crash(tmp_path: Path) -> None:
    r = Relayed(tmp_path)
    stream = units(45)
    rng = np.random.default_rng(7)
    for i, (data, ts) in enumerate(stream):
        if i == 10:
            r.relay.unit(b"\x00\x00\x00\x01" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes(), ts)
            continue
        if i == 12:
            r.relay.unit(b"\x00\x00\x00\x01\x67\x42", ts)  # an SPS cut short
            continue
        r.relay.unit(data, ts)
    r.relay.unit(b"", 46 * TICKS)
    r.relay.finish()
    assert r.stats.garbage + r.stats.broken >= 2
    for codec, frames, *_ in r.segments():
        assert codec == "h264" and frames > 0


def test_rtp_timestamp_wrap_keeps_one_continuous_segment(tmp_path: Path) -> None:
    r = Relayed(tmp_path)
    mapper = TimestampMapper()  # aiortc's own unwrapping, applied before the tap sees a frame
    start = (1 << 32) - 20 * TICKS
    for data, ts in units(40):
        r.relay.unit(data, mapper.map((start + ts) % (1 << 32)))
    r.relay.finish()
    [(_codec, frames, *_rest)] = r.segments()
    assert frames == 40 and r.stats.broken == 0


def test_picture_size_change_starts_a_new_segment(tmp_path: Path) -> None:
    r = Relayed(tmp_path)
    first = units(30, 320, 240)
    second = [(d, ts + 30 * TICKS) for d, ts in units(30, 640, 360)]
    for data, ts in first + second:
        r.relay.unit(data, ts)
    r.relay.finish()
    assert [(f, w, h) for _c, f, w, h, _o in r.segments()] == [(30, 320, 240), (30, 640, 360)]


def encode_burst(tmp: Path, depth: int) -> tuple[WhipRecorder, Spool]:
    """75 decoded frames (2.5 s at 30 fps) given at once to a recorder in encode-once mode."""
    spool = Spool("cam", tmp / "spool", SpoolLimits(1 << 30, 1e9))
    recorder = CameraRecorder("cam", spool, RecordingOptions(segment_s=1.0, fragment_s=0.5))
    rec = WhipRecorder(recorder, relay=False, depth=depth)
    for i in range(75):
        frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i, np.uint8), format="bgr24")
        frame.pts, frame.time_base = i * TICKS, Fraction(1, 90_000)
        rec.frame(frame)
    rec.stop()
    assert rec.join(20)
    return rec, spool


def test_vp8_style_frames_are_encoded_once_in_a_thread(tmp_path: Path) -> None:
    rec, spool = encode_burst(tmp_path, depth=128)
    segs = spool.pending()
    # An IDR every fragment (0.5 s): segments cut exactly at 1 s.
    assert [round(s.pts_end - s.pts_origin, 3) for s in segs] == [1.0, 1.0, 0.5]
    assert rec.stats.encoded == 75 and rec.stats.dropped == 0
    for seg in segs:
        with av.open(str(spool.media_path(seg.segment_id))) as c:
            assert c.streams.video[0].codec_context.name == "h264"
            assert sum(1 for _ in c.decode(video=0)) == round((seg.pts_end - seg.pts_origin) * 30)


def test_a_full_queue_drops_counts_and_records_what_is_whole(tmp_path: Path) -> None:
    rec, spool = encode_burst(tmp_path, depth=4)
    assert rec.stats.dropped > 0 and spool.pending()
    for seg in spool.pending():
        with av.open(str(spool.media_path(seg.segment_id))) as c:
            assert sum(1 for _ in c.decode(video=0)) > 0


async def test_tap_sees_each_encoded_frame_and_passes_it_on() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        seen: list[tuple[str, bytes, int]] = []
        tap_receiver(receiver, lambda c, d, t: seen.append((c, d, t)))
        q = receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        assert isinstance(q, TapQueue)
        caps = get_capabilities("video")
        codec = next(c for c in caps.codecs if c.mimeType == "video/H264")
        q.put((codec, JitterFrame(b"\x00\x00\x00\x01\x65", 3000)))
        q.put(None)
        assert seen == [("h264", b"\x00\x00\x00\x01\x65", 3000)]
        assert q.get_nowait()[1].timestamp == 3000 and q.get_nowait() is None
    finally:
        await pc.close()
