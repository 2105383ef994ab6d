"""The consumer with the real Ultralytics backend against a real nats-server.

The model is an untrained YOLO11n: built from its yaml, weights re-drawn from a
seeded distribution (Ultralytics' own init makes every box the whole frame), saved
to a checkpoint and loaded back through the weights path. conf=1e-4 keeps every
box it emits, so the comparison with a direct ``model.predict`` covers hundreds of
varied boxes, while nothing here pretends the model detects anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from infer_support import collecting, court_image, jpeg, publish_frame, random_yolo_checkpoint, running, until
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.yolo.env import configure_offline
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_jpeg
from inference.runtime.worker import run_in_fresh_thread

configure_offline()
from ultralytics import YOLO  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_yolo_checkpoint(tmp_path_factory.mktemp("weights") / "yolo11n-random.pt")


def model_config(weights: str, **kw: object) -> ModelConfig:
    base: dict[str, object] = dict(name="yolo", weights=weights, imgsz=320, conf=1e-4, threads=2,
                                   batch=2, max_wait_ms=50, max_age_ms=60_000)
    base.update(kw)
    return ModelConfig(**base)  # type: ignore[arg-type]


async def test_annotations_equal_direct_predict(nc: NATS, checkpoint: Path) -> None:
    config = model_config(str(checkpoint))
    runner = await run_in_fresh_thread("load", create_runner, config)
    assert runner.weights == "untrained"  # a yaml-built save records no training run
    frames = {"court-1": jpeg(court_image(1)), "court-2": jpeg(court_image(2, 320, 256))}
    async with collecting(nc, "yolo") as got, running(InferenceConsumer(config, runner, nc, instance="t-1")):
        for cam, data in frames.items():
            await publish_frame(nc, cam, 7, data, 320, 240 if cam == "court-1" else 256)
        annotations = await got.wait_for(2)

    reference = YOLO(str(checkpoint))
    for ann in annotations:
        image = decode_jpeg(frames[ann.camera])
        expected = reference.predict(image, imgsz=320, conf=1e-4, iou=0.7, verbose=False)[0].boxes
        assert ann.seq == 7 and ann.model == "yolo" and ann.weights == "untrained"
        assert (ann.frame_w, ann.frame_h) == (image.shape[1], image.shape[0])
        assert len(ann.objects) > 10, "conf=1e-4 must surface boxes, else the comparison is empty"
        assert len({o.box for o in ann.objects}) > 10, "boxes must vary for the comparison to mean something"
        assert len(ann.objects) == len(expected)
        got_boxes = np.array([o.box for o in ann.objects])
        assert np.abs(got_boxes - expected.xyxy.numpy()).max() <= 1.0
        assert [o.class_id for o in ann.objects] == expected.cls.int().tolist()
        assert np.abs(np.array([o.score for o in ann.objects]) - expected.conf.numpy()).max() <= 1e-3
        assert ann.latency.infer > 0 and ann.latency.total >= ann.latency.infer
    headers = {h["Nats-Msg-Id"] for h in got.headers}
    assert headers == {"court-1.yolo.7", "court-2.yolo.7"}


async def test_missing_weights_fall_back_to_untrained_architecture(nc: NATS) -> None:
    config = model_config("yolo11n.pt")  # not on disk, no network: the yaml fallback
    runner = await run_in_fresh_thread("load", create_runner, config)
    assert runner.weights == "untrained" and "untrained" in runner.version
    async with collecting(nc, "yolo") as got, running(InferenceConsumer(config, runner, nc, instance="t-2")):
        await publish_frame(nc, "court-1", 1, jpeg(court_image(3)), 320, 240)
        (ann,) = await got.wait_for(1)
    assert ann.weights == "untrained"


async def test_stale_and_malformed_frames_are_counted_and_skipped(nc: NATS, checkpoint: Path) -> None:
    config = model_config(str(checkpoint), max_age_ms=500)
    runner = await run_in_fresh_thread("load", create_runner, config)
    consumer = InferenceConsumer(config, runner, nc, instance="t-3")
    good = jpeg(court_image(4))
    async with collecting(nc, "yolo") as got, running(consumer):
        # Each bad frame is awaited before the next one: newest-frame-wins would otherwise
        # replace it (counted as superseded) before the model ever looked at it.
        await publish_frame(nc, "court-1", 1, good, 320, 240, ts=1_000_000_000)  # captured in 2001
        await until(lambda: consumer.slots.stale == 1)
        await nc.publish("frames.court-1", good)  # no headers
        await until(lambda: consumer.metrics.malformed == 1)
        await publish_frame(nc, "court-1", 2, b"\xff\xd8 not a jpeg", 320, 240)
        await until(lambda: consumer.metrics.malformed == 2)
        await publish_frame(nc, "court-1", 3, good, 320, 240)
        await got.wait_for(1)
    assert [a.seq for a in got.items] == [3]
    beat = consumer.heartbeat().models["yolo"]
    assert beat["stale"] == 1 and beat["dropped"] == 1 and beat["malformed"] == 2
    assert beat["published"] == 1 and beat["weights"] == "untrained" and beat["loaded"] is True
