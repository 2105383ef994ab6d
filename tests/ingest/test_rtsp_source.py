"""RTSP against a real GStreamer RTSP server process (tests/support/rtsp_server.py).

Kept to a few scenarios that each exercise several behaviours, so the whole file
runs in about half a minute on a 2-core CI machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from courtside_contracts.headers import FrameMeta
from ingest_testkit import collect, free_port, make_config, moving_frames, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from courtside.nats_server import EmbeddedNats
from ingest.demo_clip import write_h264
from tests.support.rtsp_server import RtspServer, system_rtsp_available

pytestmark = pytest.mark.skipif(not system_rtsp_available(),
                                reason="GStreamer RTSP server bindings missing: run scripts/bootstrap test")

SECRET = "s3cr3t-pw"  # noqa: S105 - a test credential that must never leak
FAST = {"backoff_cap_s": 1.0, "open_timeout_s": 2.0, "read_timeout_s": 1.0}


@pytest.fixture(scope="session")
def annexb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of 640x360 30 fps H.264, Annex-B, one slice per frame, keyframe every second."""
    path = tmp_path_factory.mktemp("rtsp") / "moving.h264"
    write_h264(path, moving_frames(60, 640, 360), fps=30, container_format="h264")
    return path


@pytest.fixture(scope="session")
def corrupt_annexb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of good H.264, then 4 s of slices whose payload is random bytes, looping."""
    path = tmp_path_factory.mktemp("rtsp") / "corrupt.h264"
    good = path.with_name("good.h264")
    write_h264(good, moving_frames(30, 320, 180), fps=30, container_format="h264")
    rnd = random.Random(7)  # noqa: S311 - test data, not crypto
    garbage = b"".join(b"\x00\x00\x00\x01\x41\x88\x84" + bytes(rnd.randrange(1, 256) for _ in range(400))
                       for _ in range(120))
    path.write_bytes(good.read_bytes() + garbage)
    return path


@pytest.fixture
def rtsp(annexb: Path) -> Iterator[RtspServer]:
    with RtspServer(annexb, free_port()) as server:
        yield server


class Recorder:
    """Keeps every frame message of a subject with its arrival time (monotonic seconds)."""

    def __init__(self) -> None:
        self.msgs: list[tuple[float, Msg]] = []

    async def on_msg(self, msg: Msg) -> None:
        self.msgs.append((time.monotonic(), msg))

    def metas(self) -> list[FrameMeta]:
        return [FrameMeta.from_headers(m.headers) for _, m in self.msgs]

    def after(self, t: float) -> list[float]:
        return [at for at, _ in self.msgs if at > t]


async def test_frames_survive_a_server_restart_without_disturbing_another_camera(
        nats_server: EmbeddedNats, nc: NATS, annexb: Path, rtsp: RtspServer) -> None:
    with RtspServer(annexb, free_port()) as other:
        config = make_config([
            {"id": "rtsp-a", "url": rtsp.url(), "fps": 15, "max_side": 320, **FAST},
            {"id": "rtsp-b", "url": other.url(), "fps": 15, "max_side": 320, **FAST},
        ])
        a, b = Recorder(), Recorder()
        await nc.subscribe("frames.rtsp-a", cb=a.on_msg)
        await nc.subscribe("frames.rtsp-b", cb=b.on_msg)
        async with running_ingest(config, nats_server.url):
            await wait_heartbeat(nc, lambda h: all(c["state"] == "live" for c in h.cameras.values()))
            await asyncio.sleep(1.0)
            before = a.metas()
            assert before, "no frames before the restart"
            meta = before[-1]
            assert (meta.camera, meta.width, meta.height, meta.encoding) == ("rtsp-a", 320, 180, "jpeg")

            killed_at = time.monotonic()
            rtsp.kill()
            beat = await wait_heartbeat(nc, lambda h: h.cameras["rtsp-a"]["state"] == "reconnecting")
            assert "closed the stream" in beat.cameras["rtsp-a"]["reason"] or \
                "refused" in beat.cameras["rtsp-a"]["reason"]
            await asyncio.sleep(max(0.0, 1.5 - (time.monotonic() - killed_at)))

            rtsp.start()
            back_at = time.monotonic()
            deadline = back_at + 4.0
            while not a.after(back_at) and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a recorder
                await asyncio.sleep(0.05)
            assert a.after(back_at), "no frame after the server came back"
            assert a.after(back_at)[0] - back_at < 2.0, "not live within 2 s of the server's return"
            await asyncio.sleep(0.5)

    seqs = [m.seq for m in a.metas()]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq must keep increasing by one"
    # The other camera never paused while rtsp-a was down.
    times = [t for t, _ in b.msgs if killed_at - 0.5 < t < back_at + 1.0]
    assert max(y - x for x, y in itertools.pairwise(times)) < 0.5


async def test_unreachable_wrong_path_and_bad_credentials_are_reported(
        nats_server: EmbeddedNats, nc: NATS, annexb: Path, caplog: pytest.LogCaptureFixture) -> None:
    with RtspServer(annexb, free_port(), user="viewer", password=SECRET) as server:
        config = make_config([
            {"id": "good", "url": server.url(credentials=("viewer", SECRET)), "fps": 10, "max_side": 320, **FAST},
            {"id": "closed", "url": f"rtsp://viewer:{SECRET}@127.0.0.1:{free_port()}/live", **FAST},
            {"id": "wrongpath", "url": server.url(path="/nope", credentials=("viewer", SECRET)), **FAST},
            {"id": "badauth", "url": server.url(credentials=("viewer", "wrong-" + SECRET)), **FAST},
        ])
        with caplog.at_level(logging.DEBUG):
            async with running_ingest(config, nats_server.url):
                beat = await wait_heartbeat(nc, lambda h: h.cameras["good"]["state"] == "live"
                                            and h.cameras["closed"]["state"] == "reconnecting"
                                            and h.cameras["wrongpath"]["state"] == "failed"
                                            and h.cameras["badauth"]["state"] == "failed")
                frames = await collect(nc, "frames.good", 1.0)
    cams = beat.cameras
    assert "connection refused" in cams["closed"]["reason"]
    assert "not found" in cams["wrongpath"]["reason"]
    assert "access refused" in cams["badauth"]["reason"]
    assert len(frames) >= 7, "the good camera must keep publishing"
    raw = json.dumps(beat.cameras) + " ".join(beat.errors)
    assert SECRET not in raw and SECRET not in caplog.text


async def test_corrupt_bitstream_reconnects_and_recovers(
        nats_server: EmbeddedNats, nc: NATS, corrupt_annexb: Path, annexb: Path) -> None:
    with RtspServer(corrupt_annexb, free_port()) as bad, RtspServer(annexb, free_port()) as good:
        config = make_config([
            {"id": "corrupt", "url": bad.url(), "fps": 10, "max_side": 320, **FAST},
            {"id": "clean", "url": good.url(), "fps": 10, "max_side": 320, **FAST},
        ])
        clean = Recorder()
        await nc.subscribe("frames.clean", cb=clean.on_msg)
        async with running_ingest(config, nats_server.url):
            beat = await wait_heartbeat(nc, lambda h: "corrupt bitstream" in h.cameras["corrupt"]["last_error"],
                                        timeout_s=10)
            assert beat.cameras["corrupt"]["reconnects"] >= 1
            # It resyncs on the good part of the loop and is live again.
            await wait_heartbeat(nc, lambda h: h.cameras["corrupt"]["state"] == "live"
                                 and h.cameras["corrupt"]["frames"] > beat.cameras["corrupt"]["frames"] + 3,
                                 timeout_s=10)
    times = [t for t, _ in clean.msgs]
    assert len(times) > 20
    assert max(y - x for x, y in itertools.pairwise(times)) < 0.5


async def test_hung_server_is_stalled_then_reconnected(
        nats_server: EmbeddedNats, nc: NATS, rtsp: RtspServer) -> None:
    config = make_config([{"id": "hang", "url": rtsp.url(), "fps": 10, "max_side": 320, **FAST}])
    async with running_ingest(config, nats_server.url):
        await wait_heartbeat(nc, lambda h: h.cameras["hang"]["state"] == "live")
        rtsp.pause()
        try:
            beat = await wait_heartbeat(nc, lambda h: h.cameras["hang"]["state"] in ("stalled", "reconnecting"))
            await wait_heartbeat(nc, lambda h: h.cameras["hang"]["state"] == "reconnecting"
                                 and "timed out" in h.cameras["hang"]["reason"], timeout_s=10)
        finally:
            rtsp.resume()
        await wait_heartbeat(nc, lambda h: h.cameras["hang"]["state"] == "live", timeout_s=10)
    assert beat.cameras["hang"]["state"] in ("stalled", "reconnecting")
