"""Drift through a real nats-server and the real analytics service: a simulated camera that moves
mid-stream is flagged within 10 s and re-fitted as a new calibration revision."""

from __future__ import annotations

import asyncio
import time

import cv2
import httpx
import numpy as np
from courtside_contracts.status import Heartbeat
from courtside_contracts.subjects import frames_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from analytics import service as analytics_service
from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from analytics.drift import DriftPolicy
from courtside.config import parse_config
from courtside.court.calibration import floor_error_cm
from courtside.court.camera import Camera, Pose, broadcast_camera
from courtside.nats_server import EmbeddedNats
from courtside.sim.render import PlayerPose, draw_background, render_frame
from courtside.sim.style import random_style
from tests.analytics import sim_annotations as sa

CAM = "court-1"
W, H = 1280, 720


def _jpeg(cam: Camera) -> bytes:
    style = random_style(np.random.default_rng(5), W, H, camera=cam)
    img, _ = render_frame(draw_background(style), style, np.array([0.0, 6.0, 1.0]), np.zeros(3),
                          [PlayerPose(-2.0, 4.0, 0.0, 0.0), PlayerPose(2.0, 16.0, 0.0, 0.0)])
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def test_policy_baseline_then_moved() -> None:
    policy = DriftPolicy()
    assert not policy.observe(CAM, 1, 0.9)  # the baseline
    assert not policy.observe(CAM, 1, 0.8)
    assert policy.observe(CAM, 1, 0.5)  # 0.4 below the baseline
    assert policy.status(CAM)["drift"] == "moved"
    assert not policy.observe(CAM, 2, 0.6)  # a new revision: a new baseline
    assert policy.observe(CAM, 2, 0.3)  # below the floor


async def _metric(port: int, name: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


async def test_moved_camera_flagged_and_refitted(nats_server: EmbeddedNats, nc: NATS) -> None:
    config = parse_config({
        "models": [{"name": "people", "task": "track"}, {"name": "ball", "backend": "ball"}],
        "analytics": {"player_model": "people", "ball_model": "ball", "port": 0, "instance": "an-drift",
                      "drift_interval_s": 1.0},
    }, "<test>", environ={})
    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe("status.analytics.*", cb=on_beat)
    store = await CalibrationStore.open(nc)
    first = await store.put(sa.clicks(sa.camera(), CAM))  # clicked at 640x360; the frames are 1280x720
    still = broadcast_camera(W, H)
    moved_cam = Camera(still.intrinsics, Pose.look_at((0.8, -5.5, 6.4), (0.6, 10.5, 0.0), 1.5))
    frames = {"jpeg": _jpeg(still)}
    moved_jpeg = _jpeg(moved_cam)

    async def publish() -> None:
        while True:
            await nc.publish(frames_subject(CAM), frames["jpeg"])
            await asyncio.sleep(0.1)

    stop = asyncio.Event()
    task = asyncio.create_task(analytics_service.run(config, nats_server.url, stop))
    pub = asyncio.create_task(publish())
    try:
        async with asyncio.timeout(60):
            while not beats or beats[-1].http_port is None:  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        port = beats[-1].http_port
        assert port is not None
        async with asyncio.timeout(30):  # the still camera is checked and found where it was
            while await _metric(port, "courtside_analytics_drift_checks_total") < 2:  # noqa: ASYNC110 - polled over HTTP
                await asyncio.sleep(0.1)
        assert await _metric(port, "courtside_analytics_camera_moves_total") == 0
        frames["jpeg"] = moved_jpeg  # the camera moves mid-stream
        moved_at = time.monotonic()
        async with asyncio.timeout(10):
            while await _metric(port, "courtside_analytics_camera_moves_total") < 1:  # noqa: ASYNC110 - polled over HTTP
                await asyncio.sleep(0.1)
        flagged_s = time.monotonic() - moved_at
        assert flagged_s < 10.0
        async with asyncio.timeout(30):  # re-fitted to the new view as a new revision
            while True:
                found = await store.get(CAM)
                assert found is not None
                if found[1] > first:
                    break
                await asyncio.sleep(0.2)
        record, revision = found
        assert floor_error_cm(solve(record, revision).floor, moved_cam) <= 10.0
        assert await _metric(port, "courtside_analytics_camera_refits_total") == 1
        async with asyncio.timeout(30):  # the service takes the new revision and finds it matching
            while not (beats and beats[-1].cameras.get(CAM, {}).get("revision") == revision  # noqa: ASYNC110
                       and beats[-1].cameras[CAM].get("drift") == "ok"):
                await asyncio.sleep(0.1)
    finally:
        pub.cancel()
        stop.set()
        await asyncio.wait_for(task, 30)
