"""The analytics service end to end through a real nats-server: the simulator's ground truth published as
the annotations of a player model and a ball model -> ``courtside analytics`` -> ``analytics.<camera>``,
scored against the truth; garbage on the input subjects is counted and skipped; the calibration comes
from (and stays in) the JetStream key-value store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import httpx
from courtside_contracts.analytics import AnalyticsMessage
from courtside_contracts.headers import annotation_headers
from courtside_contracts.status import Heartbeat
from courtside_contracts.subjects import analytics_subject, annotations_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from prometheus_client.parser import text_string_to_metric_families

from analytics import service as analytics_service
from analytics.ball3d import LAG_FRAMES
from analytics.calibration_store import CalibrationStore
from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from tests.analytics import sim_annotations as sa

CAM = "court-1"


def _config(**analytics: object) -> object:
    return parse_config({
        "models": [{"name": "people", "task": "track"}, {"name": "ball", "backend": "ball"}],
        "analytics": {"player_model": "people", "ball_model": "ball", "port": 0, "instance": "an-test", **analytics},
    }, "<test>", environ={})


async def _skipped(port: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "courtside_analytics_skipped":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    out[sample.labels["reason"]] = sample.value
    return out


async def test_truth_annotations_through_nats(nats_server: EmbeddedNats, nc: NATS) -> None:
    frames = sa.frames(3, 900, CAM, "people", "ball")
    store = await CalibrationStore.open(nc)
    revision = await store.put(sa.clicks(sa.camera(), CAM))
    got: list[AnalyticsMessage] = []
    beats: list[Heartbeat] = []

    async def on_analytics(msg: Msg) -> None:
        got.append(AnalyticsMessage.from_json(msg.data))

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe(analytics_subject(CAM), cb=on_analytics)
    await nc.subscribe("status.analytics.*", cb=on_beat)
    stop = asyncio.Event()
    task = asyncio.create_task(analytics_service.run(_config(), nats_server.url, stop))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(60):
            while not any(CAM in b.cameras for b in beats):  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        beat = next(b for b in beats if CAM in b.cameras)
        assert beat.cameras[CAM]["revision"] == revision and beat.cameras[CAM]["calibration"] == "pose"
        assert beat.http_port is not None
        for i, f in enumerate(frames):
            for ann in (f.players, f.ball):
                await nc.publish(annotations_subject(CAM, ann.model), ann.to_json(),
                                 headers=annotation_headers(CAM, ann.model, ann.seq, ann.ts))
            if i == 300:  # garbage on the input subjects, in the middle of the stream
                await nc.publish(annotations_subject(CAM, "ball"), b"{not json")
                await nc.publish(annotations_subject(CAM, "ball"), json.dumps({"camera": CAM}).encode())
                await nc.publish(annotations_subject(CAM, "people"), frames[10].players.to_json())  # old seq
                await nc.publish(annotations_subject("court-9", "people"),
                                 frames[301].players.to_json().replace(b'"court-1"', b'"court-9"'))
            if i % 50 == 0:
                await nc.flush()
        await nc.flush()
        async with asyncio.timeout(120):
            while len(got) < len(frames):  # noqa: ASYNC110 - messages arrive through NATS
                await asyncio.sleep(0.05)
        skipped = await _skipped(beat.http_port)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert [m.seq for m in got] == [f.seq for f in frames]
    assert skipped["garbage"] == 2 and skipped["out_of_order"] == 1 and skipped["uncalibrated"] == 1, skipped
    assert all(m.calibration.revision == revision for m in got)
    s = sa.score(got, frames, LAG_FRAMES)
    assert s.position_median_m <= 0.20, s.table()
    # The bar is recall and precision >= 0.9: over ten seeds 0.893 / 0.929 pooled (0.83 to 0.97
    # recall per seed: a ball flying straight away from a camera behind the court is the hard case of one
    # view; docs/benchmarks.md). This checks that it does not get worse.
    assert s.bounces_truth >= 10 and s.bounce_recall >= 0.85 and s.bounce_precision >= 0.85, s.table()
    assert len(s.rally_ious) >= 3 and min(s.rally_ious) >= 0.8, s.table()


async def test_calibration_survives_a_server_restart(tmp_path: Path) -> None:
    store_dir = tmp_path / "js"
    with EmbeddedNats(store_dir) as server:
        client = NATS()
        await client.connect(server.url)
        store = await CalibrationStore.open(client)
        first = await store.put(sa.clicks(sa.camera(), CAM))
        second = await store.put(sa.clicks(sa.camera(), CAM, seed=1))
        assert second == first + 1
        await client.close()
    with EmbeddedNats(store_dir) as server:
        client = NATS()
        await client.connect(server.url)
        store = await CalibrationStore.open(client)
        found = await store.get(CAM)
        assert found is not None and found[1] == second and found[0].camera == CAM
        assert await store.get("court-2") is None
        await client.close()


async def test_calibrations_followed_live_and_bad_ones_refused(nats_server: EmbeddedNats, nc: NATS) -> None:
    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe("status.analytics.*", cb=on_beat)
    stop = asyncio.Event()
    task = asyncio.create_task(analytics_service.run(_config(ball_noise_px=0.5), nats_server.url, stop))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(60):  # an empty bucket: ready all the same, no camera yet
            while not beats:  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        assert beats[-1].cameras == {} and beats[-1].http_port is not None
        store = await CalibrationStore.open(nc)
        good = await store.put(sa.clicks(sa.camera(), CAM))
        kv = await nc.jetstream().key_value("calibration")
        await kv.put(CAM, b"{not a calibration")
        few = sa.clicks(sa.camera(), CAM)
        await store.put(dataclasses.replace(few, points=dict(list(few.points.items())[:3])))
        async with asyncio.timeout(30):
            while True:
                errors = await _metric(beats[-1].http_port, "courtside_analytics_calibration_errors_total")
                if errors >= 2:
                    break
                await asyncio.sleep(0.1)
        assert errors == 2
        async with asyncio.timeout(30):
            while not any(CAM in b.cameras for b in beats):  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        assert beats[-1].cameras[CAM]["revision"] == good  # the last good one stays in use
        assert beats[-1].cameras[CAM]["ball_noise_px"] == 0.5  # the configured noise reaches the camera's fits
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _metric(port: int, name: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))
