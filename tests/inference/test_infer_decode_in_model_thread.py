"""The consumer's in-model-thread decode (``ModelConfig.decode_ahead: false``): frames are taken only when
the model is idle and decoded in the model's own thread, just before it runs them.

A real nats-server. What must hold: every frame is decoded at the scale the runner asked for
and its results mapped to the published frame; no separate decode thread runs; while the model
is busy no frame is taken (so a frame superseded meanwhile is never decoded: under overload the
runs and the supersessions account for every frame); the annotation's ``queue`` still counts
the decode (receipt -> model start).
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
from courtside_contracts.annotations import DetectedObject
from infer_support import collecting, court_image, jpeg, publish_frame, running, until
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends.base import Runner
from inference.runtime.consumer import InferenceConsumer

MODEL_S = 0.04


class RecordingRunner(Runner):
    """40 ms per batch (GIL released); records the thread and image size of every call."""

    name = "rec"
    model_name = "rec"
    version = "rec-0"
    weights = "untrained"
    input_size = 320

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def infer(self, images: list[np.ndarray], cameras: list[str] | None = None) -> list[list[DetectedObject]]:
        self.calls.extend((threading.current_thread().name, image.shape) for image in images)
        time.sleep(MODEL_S)
        h, w = images[0].shape[:2]
        return [[DetectedObject(label="thing", class_id=0, score=0.9, box=(w / 4, h / 4, w / 2, h / 2))] for _ in images]


async def test_frames_are_decoded_in_the_model_thread_only_when_it_is_idle(nc: NATS) -> None:
    cameras = [f"cam-{i}" for i in range(4)]
    config = ModelConfig(name="rec", backend="rec", batch=1, max_wait_ms=0, max_age_ms=2000, cameras=cameras,
                         decode_ahead=False)
    runner = RecordingRunner()
    consumer = InferenceConsumer(config, runner, nc, instance="rec-1")
    data = jpeg(court_image(5, 1280, 720))
    sent = 0
    async with collecting(nc, "rec") as got, running(consumer):
        # 4 cameras at 25 fps into a 25 fps model: overloaded 4x, so most frames must be superseded
        for tick in range(1, 26):
            for camera in cameras:
                await publish_frame(nc, camera, tick, data, 1280, 720)
                sent += 1
            await asyncio.sleep(0.04)
        await until(lambda: consumer.metrics.intake.delivered == sent and len(consumer.slots) == 0, timeout_s=20)
        await asyncio.sleep(MODEL_S * 4)
    beat = consumer.heartbeat().models["rec"]
    names = {name for name, _ in runner.calls}
    assert names == {"infer-rec"}, names
    assert not any(t.name == "decode-rec" for t in threading.enumerate())
    assert {shape for _, shape in runner.calls} == {(180, 320, 3)}  # libjpeg 1/4 scale covers 320
    assert len(got.items) == beat["published"] == len(runner.calls) >= 10
    assert beat["superseded"] > sent // 3, beat
    assert sent == beat["dropped"] + beat["published"], beat
    first = got.items[0]
    assert (first.frame_w, first.frame_h) == (1280, 720)
    box = first.objects[0].box
    assert abs(box[0] - 320) < 2 and abs(box[2] - 640) < 2, box  # mapped back to the published pixels
    assert all(a.latency.queue > 0 for a in got.items)


async def test_by_default_the_next_batch_is_decoded_in_its_own_thread(nc: NATS) -> None:
    config = ModelConfig(name="rec", backend="rec", batch=1, max_wait_ms=0, max_age_ms=2000, cameras=["cam-0"])
    assert config.decode_ahead, "decoding ahead is the default"
    runner = RecordingRunner()
    data = jpeg(court_image(5, 1280, 720))
    async with collecting(nc, "rec") as got, running(InferenceConsumer(config, runner, nc, instance="rec-2")):
        assert any(t.name == "decode-rec" for t in threading.enumerate())
        for seq in range(1, 4):
            await publish_frame(nc, "cam-0", seq, data, 1280, 720)
            await got.wait_for(seq, timeout_s=20)
    assert {name for name, _ in runner.calls} == {"infer-rec"}
    assert {shape for _, shape in runner.calls} == {(180, 320, 3)}
