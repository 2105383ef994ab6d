"""WHIP cameras are recorded: a real aiortc publisher (H.264 relayed, VP8 encoded once) into a real
ingest, through a real nats-server, into the local archive; every segment is checked with ffprobe,
decoded frame by frame, and its sidecar index matched against the frames of the MP4."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import av
import pytest
from courtside_contracts.clips import SegmentMessage
from courtside_contracts.subjects import recording_flush_subject
from ingest_testkit import local_archive, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS
from whip_publisher import WhipPublisher

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive.store import LocalStore
from tests.archive.test_archive_pipeline import running_archiver

SEGMENT_S = 2.0
FPS = 30  # the synthetic track's rate


def probe(path: Path) -> dict[str, str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,nb_read_frames,duration,width,height", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return json.loads(out)["streams"][0]  # type: ignore[no-any-return]


def decode_all(path: Path) -> list[float]:
    """Media time (s) of every frame, decoding each one (an undecodable frame raises)."""
    times: list[float] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            assert frame.width > 0 and frame.time is not None
            times.append(float(frame.time))
    return times


async def wait_until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("codec", ["H264", "VP8"])
async def test_whip_publisher_is_recorded_into_the_archive(
        codec: str, tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    config = parse_config({
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "ingest-test"},
        "cameras": [{"id": "phone", "url": "whip://", "fps": 30, "max_side": 320,
                     "open_timeout_s": 5.0, "read_timeout_s": 3.0}],
        "archive": local_archive(tmp_path, segment_s=SEGMENT_S),
    }, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    async with running_archiver(nc, store, config) as archiver:
        async with running_ingest(config, nats_server.url):
            beat = await wait_heartbeat(nc, lambda h: h.http_port is not None and "phone" in h.cameras,
                                        timeout_s=10)
            base = f"http://127.0.0.1:{beat.http_port}"
            idle = beat.cameras["phone"]["recording"]
            assert "not recorded" not in idle.get("reason", ""), idle
            assert not any("phone: not recorded" in e for e in beat.errors)
            publisher = WhipPublisher(base, "phone", codec=codec)
            assert (await publisher.start()).status_code == 201
            beat = await wait_heartbeat(nc, lambda h: h.cameras["phone"]["recording"].get("shipped", 0) >= 3,
                                        timeout_s=40)
            assert beat.cameras["phone"]["recording"]["on"] is True
            # A saved clip flushes the open segment (the relay asks the publisher for a keyframe).
            reply = json.loads((await nc.request(recording_flush_subject("phone"), b"", timeout=12)).data)
            assert "segment_id" in reply, reply
            assert (await publisher.delete()).status_code == 200
            await wait_until(lambda: archiver.stats.archived >= 3, 30, "three segments archived")
    keys = sorted(o.key for o in store.list("courtside/phone/") if o.key.endswith(".mp4"))
    assert len(keys) >= 3, keys
    # The flushed segment was cut early on request (archive key <start_ns>_<end_ns>.mp4).
    flushed = f"{str(reply['segment_id']).rsplit('-', 1)[1]}_"
    for key in keys[:-1]:  # the last one ended with the session: any length
        path = tmp_path / Path(key).name
        path.write_bytes(store.read(key))
        stream = probe(path)
        assert stream["codec_name"] == "h264", stream
        assert (int(stream["width"]), int(stream["height"])) == (320, 240)
        duration, frames = float(stream["duration"]), int(stream["nb_read_frames"])
        # Cut at the first keyframe at least SEGMENT_S in (VP8: an IDR every fragment; H.264: asked
        # for by PLI when due, so a round trip later); the flushed one at the keyframe after the flush.
        shortest = 0.0 if Path(key).name.startswith(flushed) else SEGMENT_S - 0.05
        assert shortest < duration <= SEGMENT_S + 1.5, (key, duration)
        assert 0.8 * duration * FPS <= frames <= duration * FPS + 1, (key, duration, frames)
        times = decode_all(path)
        assert len(times) == frames, (len(times), frames)
        head = json.loads(store.read(key.removesuffix(".mp4") + ".jsonl").split(b"\n", 1)[0])
        seg = SegmentMessage.from_dict(head["segment"])
        assert seg.codec == "h264"
        # Every indexed frame is a frame of the MP4, at exactly its media time; seqs increase.
        media = {round(t * 90_000) for t in times}
        assert len(seg.index) >= frames // 2, (len(seg.index), frames)
        for entry in seg.index:
            assert round((entry.pts - seg.pts_origin) * 90_000) in media, (entry, seg.pts_origin)
            assert seg.start_ns - 10**9 < entry.ts < seg.end_ns + 10**9
        seqs = [e.seq for e in seg.index]
        assert seqs == sorted(set(seqs))


@pytest.mark.timeout(90)
async def test_ingest_stopping_under_a_live_publisher_ships_its_last_segment(
        tmp_path: Path, nats_server: EmbeddedNats, nc: NATS) -> None:
    config = parse_config({
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "ingest-test"},
        "cameras": [{"id": "phone", "url": "whip://", "fps": 30, "max_side": 320}],
        "archive": local_archive(tmp_path, segment_s=30.0),
    }, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    async with running_archiver(nc, store, config) as archiver:
        async with running_ingest(config, nats_server.url):  # checks it stops within 2.5 s
            beat = await wait_heartbeat(nc, lambda h: h.http_port is not None and "phone" in h.cameras,
                                        timeout_s=10)
            publisher = WhipPublisher(f"http://127.0.0.1:{beat.http_port}", "phone", codec="H264")
            assert (await publisher.start()).status_code == 201
            await wait_heartbeat(nc, lambda h: h.cameras["phone"]["recording"].get("on") is True, timeout_s=20)
            await asyncio.sleep(2.0)  # the segment (30 s long) is still open when ingest stops
        await wait_until(lambda: archiver.stats.archived >= 1, 30, "the open segment archived")
        await publisher.pc.close()
    [key] = [o.key for o in store.list("courtside/phone/") if o.key.endswith(".mp4")]
    path = tmp_path / "last.mp4"
    path.write_bytes(store.read(key))
    assert probe(path)["codec_name"] == "h264" and len(decode_all(path)) >= 30
