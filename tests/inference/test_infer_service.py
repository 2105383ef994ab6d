"""``inference.service.run``: the entry point `courtside infer <model>` calls."""

from __future__ import annotations

import asyncio

from infer_support import court_image, jpeg, publish_frame, until
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

from contracts.annotations import Annotation
from contracts.status import Heartbeat
from contracts.subjects import ANNOTATIONS_STREAM
from courtside.config import CourtsideConfig, ModelConfig
from courtside.nats_server import EmbeddedNats
from inference import service


async def test_service_serves_heartbeats_and_fills_the_stream(nats_server: EmbeddedNats, nc: NATS) -> None:
    model = ModelConfig(name="yolo", weights="yolo11n.yaml", imgsz=320, conf=1e-4, threads=2,
                        max_age_ms=60_000)
    config = CourtsideConfig(models=[model])
    beats: list[Heartbeat] = []

    async def on_beat(msg: object) -> None:
        beats.append(Heartbeat.from_json(msg.data))  # type: ignore[attr-defined]

    await nc.subscribe("status.inference.*", cb=on_beat)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(config, model, nats_server.url, stop))
    js = nc.jetstream()
    async with asyncio.timeout(60):
        await until(lambda: bool(beats))
        seq = 0
        while True:  # frames published before the subscription exists are simply lost
            seq += 1
            await publish_frame(nc, "court-1", seq, jpeg(court_image(seq)), 320, 240)
            await asyncio.sleep(0.2)
            try:
                info = await js.stream_info(ANNOTATIONS_STREAM)
            except NotFoundError:  # the service has not created it yet
                continue
            if info.state.messages >= 2:
                break
    stop.set()
    await asyncio.wait_for(task, 30)
    msg = await js.get_msg(ANNOTATIONS_STREAM, seq=1)
    ann = Annotation.from_json(msg.data)
    assert ann.camera == "court-1" and ann.weights == "untrained"
    entry = beats[-1].models["yolo"]
    assert beats[-1].state.value == "stopping"
    assert entry["loaded"] and entry["weights"] == "untrained" and entry["device"] == "cpu"
    assert entry["published"] >= 2 and entry["cameras"] == ["court-1"]
    assert entry["p50_ms"] is not None and entry["p99_ms"] >= entry["p50_ms"]
