"""A tracking camera that changes hands between replicas starts afresh when it comes back.

One real consumer (stateful runner) against a real nats-server; the peer replica is
played by heartbeats published on its status subject, as a live replica sends them.
The runner is a small recording implementation of the runner interface (the model
itself is irrelevant here): it notes every reset and every batch, in the model thread.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from courtside_contracts.annotations import DetectedObject
from courtside_contracts.status import Heartbeat, ServiceState
from courtside_contracts.subjects import STATUS_PREFIX
from infer_support import collecting, court_image, jpeg, publish_frame, running, until
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from courtside.natsio import now_ns
from inference.backends.base import Runner
from inference.runtime.consumer import SERVICE, InferenceConsumer
from inference.runtime.ownership import owner

ME, PEER = "trk-me", "trk-peer"


class RecordingTracker(Runner):
    name = "recording"
    model_name = "recording"
    version = "0"
    weights = "untrained"
    stateful = True

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.threads: set[str] = set()

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        assert cameras is not None, "a stateful runner gets the camera of every image"
        self.threads.add(threading.current_thread().name)
        self.events += [("infer", cam) for cam in cameras]
        return [[] for _ in images]

    def reset(self, camera: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.events.append(("reset", camera))


async def peer_heartbeat(nc: NATS, state: ServiceState) -> None:
    beat = Heartbeat(service=SERVICE, instance=PEER, state=state, ts=now_ns(), models={"trk": {"loaded": True}})
    await nc.publish(f"{STATUS_PREFIX}.{SERVICE}.{PEER}", beat.to_json())


async def test_camera_state_is_reset_when_it_moves_away_and_back(nc: NATS) -> None:
    camera = next(f"court-{i}" for i in range(100) if owner(f"court-{i}", [ME, PEER]) == PEER)
    config = ModelConfig(name="trk", weights="none", batch=1, max_wait_ms=0, max_age_ms=60_000)
    runner = RecordingTracker()
    consumer = InferenceConsumer(config, runner, nc, instance=ME, heartbeat_interval_s=0.5)
    data = jpeg(court_image(1, 160, 120))
    seq = 0

    async def frame() -> None:
        nonlocal seq
        seq += 1
        await publish_frame(nc, camera, seq, data, 160, 120)

    async with collecting(nc, "trk") as got, running(consumer):
        await until(lambda: consumer.state == ServiceState.READY)
        await frame()
        await got.wait_for(1)                                  # alone: the camera is ours
        assert runner.events == [("infer", camera)]

        await peer_heartbeat(nc, ServiceState.READY)           # the peer joins and wins the camera
        await until(lambda: PEER in consumer.heartbeat().models["trk"]["replicas"])
        await frame()
        await until(lambda: consumer.metrics.not_owned == 1)

        await peer_heartbeat(nc, ServiceState.STOPPING)        # the peer leaves: the camera comes back
        await until(lambda: consumer.heartbeat().models["trk"]["replicas"] == [ME])
        await frame()
        await got.wait_for(2)
        await asyncio.sleep(0.1)

    assert runner.events == [("infer", camera), ("reset", camera), ("infer", camera)]
    assert runner.threads == {"infer-trk"}, "reset must run in the model thread, like infer"
