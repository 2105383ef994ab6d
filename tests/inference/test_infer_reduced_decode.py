"""Reduced-scale JPEG decoding and the mapping of results back to the published frame.

Pure parts (the libjpeg scale request, the geometry) with plain data; then the
consumer with a real Ultralytics model on a real nats-server: with ``decode:
auto`` its annotations equal a direct ``model.predict`` on the reduced decode,
scaled back; with ``decode: full`` they equal ``predict`` on the full decode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from courtside_contracts.annotations import Ball, DetectedObject
from infer_support import collecting, court_image, jpeg, publish_frame, random_yolo_checkpoint, running
from nats.aio.client import Client as NATS
from test_infer_onnx import matched

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.backends.base import FrameResult
from inference.backends.yolo.convert import objects_from_arrays
from inference.backends.yolo.env import configure_offline
from inference.errors import FrameDecodeError
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.decode import decode_frame, reduced_size_request
from inference.runtime.processing import decode_batch
from inference.runtime.rescale import rescale_result
from inference.runtime.worker import run_in_fresh_thread

configure_offline()
from ultralytics import YOLO  # noqa: E402


def test_scale_request_covers_the_model_input() -> None:
    assert reduced_size_request(1280, 720, 640) == {"min_width": 640}
    assert reduced_size_request(720, 1280, 640) == {"min_height": 640}   # portrait phone
    assert reduced_size_request(640, 360, 640) == {}                      # already small enough
    assert reduced_size_request(320, 240, 640) == {}                      # never upscaled
    assert reduced_size_request(1280, 720, None) == {}                    # decode: full
    assert reduced_size_request(1280, 720, 512) == {"min_width": 512}     # 1/2 (640x360) covers 512
    assert reduced_size_request(1281, 720, 641) == {"min_width": 641}     # 1/2 rounds up to 641: covers it
    # Only a scale above 1/2 covers the input (7/8, 5/8): as dear as a full decode, so full.
    assert reduced_size_request(640, 360, 512) == {}
    assert reduced_size_request(960, 540, 512) == {}
    assert reduced_size_request(1280, 720, 641) == {}


@pytest.mark.parametrize(("size", "target", "expected"), [
    ((1280, 720), 640, (640, 360)),     # exactly half: the model's resize becomes a no-op
    ((1920, 1080), 640, (720, 405)),    # 3/8, the smallest M/8 whose long side covers 640
    ((1920, 1080), 960, (960, 540)),
    ((1280, 720), 1280, (1280, 720)),
    ((1281, 719), 640, (641, 360)),     # odd sizes: libjpeg rounds up, still covers the input
    ((640, 360), 512, (640, 360)),      # 7/8 would cover 512 but costs more than the full decode
    ((1280, 720), 512, (640, 360)),
])
def test_decoded_size(size: tuple[int, int], target: int, expected: tuple[int, int]) -> None:
    frame = decode_frame(jpeg(court_image(1, *size)), target)
    assert (frame.image.shape[1], frame.image.shape[0]) == expected
    assert (frame.width, frame.height) == size
    assert max(frame.image.shape[:2]) >= min(target, max(size))


def test_reduced_decode_is_the_picture_at_a_smaller_scale() -> None:
    image = court_image(5, 1280, 720)
    small = decode_frame(jpeg(image), 640).image.astype(np.float32)
    area = image.reshape(360, 2, 640, 2, 3).mean(axis=(1, 3))  # the 2x2 mean of the source
    assert np.abs(small - area).mean() < 4.0


def test_rescale_maps_boxes_keypoints_and_ball() -> None:
    obj = DetectedObject("person", 0, 0.9, (10.0, 20.0, 30.0, 40.0), track_id=3,
                         keypoints=((12.0, 22.0, 0.8), (28.0, 38.0, 0.1)))
    result = FrameResult((obj,), Ball(100.0, 50.0, 0.7, True))
    out = rescale_result(result, 640, 360, 1280, 720)
    (mapped,) = out.objects
    assert mapped.box == (20.0, 40.0, 60.0, 80.0)
    assert mapped.keypoints == ((24.0, 44.0, 0.8), (56.0, 76.0, 0.1))
    assert (mapped.label, mapped.class_id, mapped.score, mapped.track_id) == ("person", 0, 0.9, 3)
    assert out.ball == Ball(200.0, 100.0, 0.7, True)
    assert rescale_result(result, 1280, 720, 1280, 720) is result


def test_rescale_clips_to_the_frame() -> None:
    # 641 decoded columns stand for 1281 source ones: the last box edge must not leave the frame.
    edge = DetectedObject("ball", 32, 0.5, (600.0, 0.0, 641.0, 360.0))
    (mapped,) = rescale_result(FrameResult((edge,)), 641, 360, 1281, 719).objects
    assert mapped.box[2] <= 1281 and mapped.box[3] <= 719


def test_bad_frames_still_fail_cleanly_when_reduced() -> None:
    decoded = decode_batch([b"", b"\xff\xd8garbage", jpeg(court_image(2, 1280, 720))], 640)
    assert isinstance(decoded.errors[0], FrameDecodeError)
    assert isinstance(decoded.errors[1], FrameDecodeError)
    assert decoded.errors[2] is None and decoded.images[0].shape == (360, 640, 3)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_yolo_checkpoint(tmp_path_factory.mktemp("weights") / "yolo11n-random.pt")


@pytest.mark.parametrize("mode", ["auto", "full"])
async def test_consumer_annotations_match_predict_in_frame_pixels(nc: NATS, checkpoint: Path, mode: str) -> None:
    config = ModelConfig(name="yolo", weights=str(checkpoint), imgsz=320, conf=1e-4, threads=2, batch=1,
                         max_wait_ms=0, max_age_ms=60_000, decode=mode)
    runner = await run_in_fresh_thread("load", create_runner, config)
    data = jpeg(court_image(9, 640, 480))
    async with collecting(nc, "yolo") as got, running(InferenceConsumer(config, runner, nc, instance="t-r")):
        await publish_frame(nc, "court-1", 1, data, 640, 480)
        (ann,) = await got.wait_for(1)

    frame = decode_frame(data, 320 if mode == "auto" else None)
    assert frame.image.shape == ((240, 320, 3) if mode == "auto" else (480, 640, 3))
    scale = 640 / frame.image.shape[1]
    expected = YOLO(str(checkpoint)).predict(frame.image, imgsz=320, conf=1e-4, iou=0.7, verbose=False)[0].boxes
    assert (ann.frame_w, ann.frame_h) == (640, 480)  # always the published frame's pixels
    assert len(ann.objects) > 10 and len(ann.objects) == len(expected)
    # the default runtime (ONNX Runtime) may list objects whose scores tie in another order
    ref = matched(list(ann.objects), objects_from_arrays(
        {}, np.minimum(expected.xyxy.numpy() * scale, [640, 480, 640, 480]), expected.conf.numpy(),
        expected.cls.numpy()))
    got_boxes = np.array([o.box for o in ann.objects])
    assert np.abs(got_boxes - np.array([o.box for o in ref])).max() <= 1.0
    assert [o.class_id for o in ann.objects] == [o.class_id for o in ref]
    assert np.abs(np.array([o.score for o in ann.objects]) - np.array([o.score for o in ref])).max() <= 1e-3
