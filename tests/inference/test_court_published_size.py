"""court-1's frames as the embedded default publishes them (``max_side`` of courtside/app/embedded.yaml) for the
two court models it serves: the shipped player detector and ball tracker must find on them what they find on
the demo clip's own 1280x720 frames, against the simulator's truth.

Both were trained on 640x360 renders (``courtside train players``, ``inference.backends.ball.data``) and see
a fixed input whatever the frame (the detector letterboxes to ``imgsz`` 160, BallNet resizes to 512x288), so a
smaller published frame must change nothing they see beyond resampling. The path is the real one: the demo
clip's frames through H.264 and ingest's :class:`~ingest.jpeg_encoder.JpegEncoder` at ``max_side``, decoded
and run as the consumer does (:func:`~inference.runtime.processing.decode_batch` at the runner's
``input_size``, :func:`~inference.runtime.processing.infer_batch`, results in published pixels), compared in
the clip's pixels.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from courtside.app.cli import EMBEDDED_CONFIG
from courtside.config import load_config
from courtside.sim.boxes import PLAYER, Box, boxes_from_labels
from inference.backends import create_runner
from inference.backends.ball.runner import BallRunner
from inference.backends.base import FrameRef, Runner
from inference.runtime.processing import FrameDone, decode_batch, infer_batch
from ingest import demo_scene
from ingest.demo_clip import write_h264
from ingest.geometry import target_size
from ingest.jpeg_encoder import JpegEncoder

pytestmark = pytest.mark.timeout(600)
FRAMES = 90  # six seconds of play at 15 fps (every second frame of the 30 fps clip)
W, H = demo_scene.WIDTH, demo_scene.HEIGHT
#: A player's box counts as found at this IoU with the truth (clip pixels).
IOU = 0.5
#: The ball counts as found this close to the truth (clip pixels: ~1.6 of BallNet's 512 px input).
BALL_PX = 4.0


@dataclass(frozen=True, slots=True)
class Truth:
    players: list[Box]
    ball: tuple[float, float] | None  # clip pixels, when well visible


def _demo() -> tuple[list[av.VideoFrame], list[Truth]]:
    """The demo clip's first frames at 15 fps, decoded from H.264 as ingest decodes them, with their truth."""
    sim = demo_scene.simulation()
    images, truths = [], []
    for index in range(2 * FRAMES):
        labels = np.zeros((H, W), np.uint8)
        frame = sim.next_frame(labels)
        if index % 2:
            continue
        images.append(frame.image)
        players = boxes_from_labels(labels, {i + 1: PLAYER for i in range(4)}, {PLAYER: 400})
        ball = frame.truth.pixel if frame.truth.visibility == demo_scene.Visibility.VISIBLE else None
        truths.append(Truth(players, ball))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.mp4"
        write_h264(path, images, 15, keyint=15, crf=20)  # the clip's own settings (ingest.demo_clip.render_clip)
        with av.open(str(path)) as container:
            decoded = list(container.decode(video=0))
    assert len(decoded) == len(truths)
    return decoded, truths


def _published(frames: list[av.VideoFrame], max_side: int) -> Iterator[tuple[bytes, int, int]]:
    encoder = JpegEncoder(max_side, 80)
    for frame in frames:
        out = encoder.encode(frame, 0, None)
        yield out.jpeg, out.width, out.height


def _run(runner: Runner, frames: list[av.VideoFrame], max_side: int) -> list[FrameDone]:
    """Each published frame through the consumer's decode and model stages, one at a time, in order."""
    if isinstance(runner, BallRunner):  # its tracker stamps frames on arrival: a 15 fps clock, as published
        clock = iter(range(10_000))
        runner.clock = lambda: next(clock) / 15.0
    done = []
    for seq, (jpeg, width, height) in enumerate(_published(frames, max_side), start=1):
        outcome = infer_batch(runner, decode_batch([jpeg], runner.input_size),
                              [FrameRef("court-1", seq, seq, width, height)])
        result = outcome.results[0]
        assert isinstance(result, FrameDone), result
        done.append(result)
    return done


def _iou(a: tuple[float, float, float, float], b: Box) -> float:
    x0, y0, x1, y1 = max(a[0], b.x0), max(a[1], b.y0), min(a[2], b.x1), min(a[3], b.y1)
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b.x1 - b.x0) * (b.y1 - b.y0)
    return inter / (area - inter) if area > inter else 0.0


def _players_found(done: list[FrameDone], truths: list[Truth]) -> tuple[float, float]:
    """(recall, precision) of player boxes at :data:`IOU`, in clip pixels."""
    found = shown = detected = 0
    for frame, truth in zip(done, truths, strict=True):
        s = W / frame.width
        boxes = [(o.box[0] * s, o.box[1] * s, o.box[2] * s, o.box[3] * s)
                 for o in frame.result.objects if o.label == "player"]
        detected += len(boxes)
        shown += len(truth.players)
        found += sum(1 for t in truth.players if any(_iou(b, t) >= IOU for b in boxes))
    return found / shown, found / max(detected, 1)


def _ball_found(done: list[FrameDone], truths: list[Truth]) -> float:
    """Share of frames with a visible ball where the tracker's ball is within :data:`BALL_PX` of it."""
    hits = visible = 0
    for frame, truth in zip(done, truths, strict=True):
        if truth.ball is None:
            continue
        visible += 1
        ball = frame.result.ball
        if ball is not None and ball.visible:
            s = W / frame.width
            hits += int(float(np.hypot(ball.x * s - truth.ball[0], ball.y * s - truth.ball[1])) <= BALL_PX)
    assert visible >= FRAMES // 2, "the demo ball must be in view for the comparison to mean something"
    return hits / visible


def test_court_models_find_on_the_published_frames_what_they_find_at_full_size() -> None:
    config = load_config(EMBEDDED_CONFIG, environ={})
    max_side = next(c for c in config.cameras if c.id == "court-1").max_side
    assert target_size(W, H, max_side)[0] * H == target_size(W, H, max_side)[1] * W, "the clip's aspect ratio"
    frames, truths = _demo()
    detector = create_runner(config.model("yolo"))
    ball = create_runner(config.model("ball"))
    try:
        full = _players_found(_run(detector, frames, W), truths)
        published = _players_found(_run(detector, frames, max_side), truths)
        ball_full = _ball_found(_run(ball, frames, W), truths)
        ball.reset("court-1")
        ball_published = _ball_found(_run(ball, frames, max_side), truths)
    finally:
        detector.close()
        ball.close()
    print(f"max_side {max_side}: players recall/precision {published} (1280: {full}); ball {ball_published:.3f} "
          f"(1280: {ball_full:.3f})")
    assert published[0] >= 0.9 and published[0] >= full[0] - 0.03, (published, full)
    assert published[1] >= 0.9 and published[1] >= full[1] - 0.03, (published, full)
    assert ball_published >= 0.8 and ball_published >= ball_full - 0.05, (ball_published, ball_full)
