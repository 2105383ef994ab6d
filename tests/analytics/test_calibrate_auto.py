"""``courtside calibrate --auto`` against a real nats-server: a simulator frame's lines fitted and stored.

The frame comes from an image file, then from ``frames.<camera>`` (published while the
command waits); the stored record is read back, solved as every reader solves it and
compared with the simulator's true camera.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.subjects import frames_subject
from nats.aio.client import Client as NATS

from analytics.calibrated import solve
from courtside.court.calibration import floor_error_cm
from courtside.court.camera import Camera, broadcast_camera
from courtside.nats_server import EmbeddedNats
from courtside.sim.render import PlayerPose, draw_background, render_frame
from courtside.sim.style import random_camera, random_style

W, H = 1280, 720


def _frame(cam: Camera, seed: int) -> np.ndarray:
    style = random_style(np.random.default_rng(seed), W, H, camera=cam)
    players = [PlayerPose(-2.0, 4.0, 0.0, 0.0), PlayerPose(2.0, 16.0, 0.0, 0.0)]
    img, _ = render_frame(draw_background(style), style, np.array([0.0, 6.0, 1.0]), np.zeros(3), players)
    return img


async def _calibrate(server: EmbeddedNats, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "COURTSIDE_NATS__URL": server.url, "COURTSIDE_LOG_LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "courtside", "calibrate", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def _stored(server: EmbeddedNats, camera: str) -> tuple[CalibrationRecord, int]:
    rc, out, err = await _calibrate(server, camera)
    assert rc == 0, err
    shown = json.loads(out)
    return CalibrationRecord.from_json(json.dumps(shown["record"])), int(shown["revision"])


async def test_auto_from_an_image_file_then_refined_from_a_live_frame(tmp_path: Path) -> None:
    cam = broadcast_camera(W, H)
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), _frame(cam, 11))
    with EmbeddedNats() as server:
        rc, out, err = await _calibrate(server, "court-1", "--auto", "--image", str(path))
        assert rc == 0, err
        assert "revision 1 stored (auto, searched from no start" in out, out
        record, revision = await _stored(server, "court-1")
        assert revision == 1 and (record.width, record.height) == (W, H)
        assert floor_error_cm(solve(record, revision).floor, cam) <= 10.0

        # The second time, from a live JPEG on frames.court-1, the stored calibration is the start.
        nc = NATS()
        await nc.connect(server.url)
        jpeg = cv2.imencode(".jpg", _frame(cam, 12), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

        async def publish() -> None:
            while True:
                await nc.publish(frames_subject("court-1"), jpeg)
                await asyncio.sleep(0.2)

        pub = asyncio.create_task(publish())
        try:
            rc, out, err = await _calibrate(server, "court-1", "--auto")
        finally:
            pub.cancel()
            await nc.close()
        assert rc == 0, err
        assert "revision 2 stored (auto, refined from the stored calibration" in out, out
        record, revision = await _stored(server, "court-1")
        assert revision == 2
        assert floor_error_cm(solve(record, revision).floor, cam) <= 10.0


async def test_auto_refuses_a_frame_without_court_lines(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((H, W, 3), (40, 120, 60), np.uint8))
    with EmbeddedNats() as server:
        rc, _, err = await _calibrate(server, "court-2", "--auto", "--image", str(blank))
        assert rc == 2 and "no court line" in err, err
        rc, _, err = await _calibrate(server, "court-2")
        assert rc == 1  # nothing was stored


async def test_auto_on_a_randomised_camera(tmp_path: Path) -> None:
    cam = random_camera(np.random.default_rng(4), W, H)
    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), _frame(cam, 13))
    with EmbeddedNats() as server:
        rc, _, err = await _calibrate(server, "court-3", "--auto", "--image", str(path))
        assert rc == 0, err
        record, revision = await _stored(server, "court-3")
        assert floor_error_cm(solve(record, revision).floor, cam) <= 10.0
