"""Replicas of one model: shared work without duplicates, and camera ownership for trackers."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from courtside_contracts.annotations import DetectedObject
from infer_support import collecting, court_image, jpeg, publish_frame, running, until
from nats.aio.client import Client as NATS

from courtside import process
from courtside.config import ModelConfig
from courtside.nats_server import EmbeddedNats
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.ownership import owner

CAMERAS = [f"c{i}" for i in range(6)]
REPLICA = Path(__file__).with_name("replica_main.py")


class NullRunner(Runner):
    name = "null"
    model_name = "null"
    version = "null-0"
    weights = "untrained"

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        return [[] for _ in images]


async def test_two_replicas_share_the_queue_group_without_duplicates(nats_server: EmbeddedNats,
                                                                     nc: NATS) -> None:
    import nats

    config = ModelConfig(name="null", backend="null", max_wait_ms=0, max_age_ms=5000)
    clients = [await nats.connect(nats_server.url) for _ in range(2)]
    consumers = [InferenceConsumer(config, NullRunner(), c, instance=f"r{i}")
                 for i, c in enumerate(clients)]
    data = jpeg(court_image(1, 160, 120))
    async with collecting(nc, "null") as got, running(consumers[0]), running(consumers[1]):
        for seq in range(1, 41):
            for cam in CAMERAS:
                await publish_frame(nc, cam, seq, data, 160, 120)
            await asyncio.sleep(0.01)
        await until(lambda: sum(c.metrics.published + c.slots.superseded for c in consumers) >= 240)
        await nc.flush()
        await asyncio.sleep(0.2)
    for c in clients:
        await c.close()
    keys = Counter((a.camera, a.seq) for a in got.items)
    assert keys and max(keys.values()) == 1, "a frame was annotated twice"
    assert all(c.metrics.published > 0 for c in consumers), "the queue group must spread frames"


async def test_tracking_cameras_have_one_owner_and_move_within_5s(nats_server: EmbeddedNats, nc: NATS) -> None:
    instances = ["rep-a", "rep-b"]
    owners = {cam: owner(cam, instances) for cam in CAMERAS}
    assert set(owners.values()) == set(instances), "test needs cameras on both replicas"
    procs = {inst: process.spawn([sys.executable, str(REPLICA), nats_server.url, inst, ",".join(CAMERAS)])
             for inst in instances}
    data = jpeg(court_image(2, 160, 120))
    seq = 0

    async def publish_round() -> None:
        nonlocal seq
        seq += 1
        for cam in CAMERAS:
            await publish_frame(nc, cam, seq, data, 160, 120)
        await asyncio.sleep(0.05)  # 20 fps per camera

    try:
        async with collecting(nc, "trk") as got:
            async with asyncio.timeout(30):  # both up and serving their own cameras
                while {a.model_version for a in got.items[-30:]} != set(instances):
                    await publish_round()
            got.items.clear()
            for _ in range(40):  # 2 s of steady state
                await publish_round()
            await asyncio.sleep(0.3)
            steady = list(got.items)
            procs["rep-a"].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            moved_at: float | None = None
            a_cams = {c for c, o in owners.items() if o == "rep-a"}
            async with asyncio.timeout(10):
                while moved_at is None:
                    mark = len(got.items)
                    await publish_round()
                    await asyncio.sleep(0.02)
                    served = {a.camera for a in got.items[mark:] if a.model_version == "rep-b"}
                    if a_cams <= served:
                        moved_at = time.monotonic()
            for _ in range(10):
                await publish_round()
            await asyncio.sleep(0.3)
            after = list(got.items)
    finally:
        for proc in procs.values():
            process.stop(proc, "replica")

    keys = Counter((a.camera, a.seq) for a in steady)
    assert max(keys.values()) == 1, "a frame was annotated by both replicas"
    for ann in steady:
        assert ann.model_version == owners[ann.camera], f"{ann.camera} served by a non-owner"
    assert {a.camera for a in steady} == set(CAMERAS)
    assert moved_at - killed_at < 5.0, f"cameras moved after {moved_at - killed_at:.1f} s"
    keys_after = Counter((a.camera, a.seq) for a in after)
    assert max(keys_after.values()) == 1
    print(f"cameras of the killed replica moved in {moved_at - killed_at:.2f} s")
