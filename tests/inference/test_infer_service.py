"""``inference.service.run``: the entry point `courtside infer <model>` calls."""

from __future__ import annotations

import asyncio

import httpx
from courtside_contracts.annotations import Annotation
from courtside_contracts.status import Heartbeat
from courtside_contracts.subjects import ANNOTATIONS_STREAM
from infer_support import court_image, jpeg, publish_frame, until
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

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
        # the ops endpoints, on the ephemeral port its heartbeat announces
        port = beats[-1].http_port
        assert port is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert body["state"] == "ready" and body["service"] == "inference"
            assert body["dependencies"] == {"nats": {"state": "connected", "ok": True},
                                            "model": {"state": "loaded", "ok": True}}
            assert body["model"] == {"name": "yolo", "backend": "ultralytics", "weights": "untrained",
                                     "device": "cpu"}
            metrics = (await http.get("/metrics")).text
            assert 'courtside_inference_batches_total{model="yolo"}' in metrics
            assert 'courtside_inference_infer_seconds_count{model="yolo"}' in metrics
            assert 'courtside_inference_frames_dropped_total{model="yolo",reason="stale"}' in metrics
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
