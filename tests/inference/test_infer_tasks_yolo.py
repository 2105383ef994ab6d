"""Pose and tracking through the consumer (untrained models, real nats-server).

Untrained scores are ~1.6e-4, so the tracker gets thresholds below that from a
tracker yaml written here; the point is the plumbing (17 keypoints per object,
track ids persistent per camera, one tracker per camera), not accuracy.
"""

from __future__ import annotations

from pathlib import Path

from infer_support import collecting, court_image, jpeg, publish_frame, running, until
from nats.aio.client import Client as NATS

from courtside.config import ModelConfig
from inference.backends import create_runner
from inference.runtime.consumer import InferenceConsumer
from inference.runtime.worker import run_in_fresh_thread

LOW_BYTETRACK = """tracker_type: bytetrack
track_high_thresh: 0.0001
track_low_thresh: 0.00001
new_track_thresh: 0.0001
track_buffer: 30
match_thresh: 0.8
fuse_score: false
"""


async def test_pose_objects_carry_17_keypoints(nc: NATS) -> None:
    config = ModelConfig(name="pose", weights="yolo11n-pose.yaml", task="pose", imgsz=320, conf=1e-4,
                         threads=2, max_age_ms=60_000)
    runner = await run_in_fresh_thread("load", create_runner, config)
    assert runner.weights == "untrained"
    async with collecting(nc, "pose") as got, running(InferenceConsumer(config, runner, nc, instance="p-1")):
        await publish_frame(nc, "court-1", 1, jpeg(court_image(5)), 320, 240)
        (ann,) = await got.wait_for(1)
    assert ann.objects and all(o.keypoints is not None and len(o.keypoints) == 17 for o in ann.objects)
    x1, y1, x2, y2 = ann.objects[0].box
    assert 0 <= x1 <= x2 <= 320 and 0 <= y1 <= y2 <= 240


async def test_tracks_persist_per_camera_and_never_mix(nc: NATS, tmp_path: Path) -> None:
    tracker = tmp_path / "low-bytetrack.yaml"
    tracker.write_text(LOW_BYTETRACK)
    config = ModelConfig(name="trk", weights="yolo11n.yaml", task="track", imgsz=320, conf=1e-4, threads=2,
                         batch=2, max_wait_ms=100, max_age_ms=60_000,
                         options={"tracker": str(tracker), "max_det": 20})
    runner = await run_in_fresh_thread("load", create_runner, config)
    assert runner.stateful
    consumer = InferenceConsumer(config, runner, nc, instance="trk-1", heartbeat_interval_s=0.2)
    images = {"cam-a": jpeg(court_image(6)), "cam-b": jpeg(court_image(7))}
    async with collecting(nc, "trk") as got, running(consumer):
        for seq in range(1, 5):
            for cam, data in images.items():
                await publish_frame(nc, cam, seq, data, 320, 240)
            await until(lambda seq=seq: len(got.items) >= 2 * seq)
    ids: dict[str, list[set[int]]] = {"cam-a": [], "cam-b": []}
    for ann in got.items:
        ids[ann.camera].append({o.track_id for o in ann.objects if o.track_id is not None})
    for cam, per_frame in ids.items():
        assert per_frame[-1], f"{cam}: no confirmed tracks"
        assert per_frame[-1] == per_frame[-2], f"{cam}: the same picture must keep its track ids"
        # Each camera has its own tracker, numbering from 1: a tracker shared by both
        # cameras would have continued cam-a's numbering or re-used its tracks for cam-b.
        assert per_frame[0] == set(range(1, len(per_frame[0]) + 1)), f"{cam}: {per_frame[0]}"
    assert runner._trackers is not None and runner._trackers.cameras() == ["cam-a", "cam-b"]
