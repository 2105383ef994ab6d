"""The MMPose top-down join: detector boxes matched to frames by (camera, seq).

The pure :class:`BoxJoin` with the clock passed in (early, late, missing, bounds), then
:class:`DetectorBoxes` on a real nats-server: a late detector message still joins, a
missing one is answered Missing after the timeout (never a hang), and a burst where
the detector and the pose model run at different rates joins every frame the detector
annotated while memory stays bounded.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from courtside_contracts.annotations import Annotation, DetectedObject, Latency
from courtside_contracts.subjects import annotations_subject
from nats.aio.client import Client as NATS

from inference.backends.mmpose.box_join import BoxJoin, Joined, Missing, Wait
from inference.backends.mmpose.detector_boxes import DetectorBoxes

MS = 1_000_000
BOX = (10.0, 20.0, 110.0, 220.0, 0.9)


# --- BoxJoin, plain data ------------------------------------------------------------------------------

def test_a_message_that_came_first_joins_at_once() -> None:
    join = BoxJoin(timeout_ns=100 * MS)
    join.add("c", 5, (BOX,), now_ns=0)
    assert join.ask("c", 5, now_ns=1 * MS) == Joined((BOX,))
    assert len(join) == 0 and join.counts.joined == 1


def test_a_late_message_joins_until_the_deadline_then_the_frame_is_missing() -> None:
    join = BoxJoin(timeout_ns=100 * MS)
    assert join.ask("c", 1, now_ns=0) == Wait(until_ns=100 * MS)
    assert join.ask("c", 1, now_ns=60 * MS) == Wait(until_ns=100 * MS)  # the deadline is from the first ask
    join.add("c", 1, (BOX,), now_ns=90 * MS)
    assert join.ask("c", 1, now_ns=91 * MS) == Joined((BOX,))
    assert join.ask("c", 2, now_ns=100 * MS) == Wait(until_ns=200 * MS)
    assert join.ask("c", 2, now_ns=200 * MS) == Missing(waited_ns=100 * MS)
    assert (join.counts.joined, join.counts.missing) == (1, 1)


def test_an_empty_detection_is_a_join_not_a_miss() -> None:
    join = BoxJoin(timeout_ns=100 * MS)
    join.add("c", 3, (), now_ns=0)
    assert join.ask("c", 3, now_ns=0) == Joined(())


def test_cameras_do_not_mix() -> None:
    join = BoxJoin(timeout_ns=0)
    join.add("a", 1, (BOX,), now_ns=0)
    assert isinstance(join.ask("b", 1, now_ns=0), Missing)
    assert join.ask("a", 1, now_ns=0) == Joined((BOX,))


def test_answered_frames_drop_older_entries_and_later_arrivals_for_them() -> None:
    join = BoxJoin(timeout_ns=100 * MS)
    for seq in range(5):
        join.add("c", seq, (BOX,), now_ns=seq * MS)
    assert join.ask("c", 3, now_ns=10 * MS) == Joined((BOX,))  # newest-frame-wins skipped 0-2
    assert len(join) == 1 and join.counts.superseded == 3  # 0, 1, 2 dropped; 4 kept
    join.add("c", 2, (BOX,), now_ns=11 * MS)  # too late: the pose model never goes back
    assert len(join) == 1 and join.counts.superseded == 4


def test_a_camera_that_restarts_at_a_lower_seq_is_served_again() -> None:
    join = BoxJoin(timeout_ns=100 * MS)
    join.add("c", 900, (BOX,), now_ns=0)
    assert isinstance(join.ask("c", 900, now_ns=0), Joined)
    assert isinstance(join.ask("c", 0, now_ns=1 * MS), Wait)  # restarted source: waits, not refused
    join.add("c", 0, (BOX,), now_ns=2 * MS)
    assert join.ask("c", 0, now_ns=3 * MS) == Joined((BOX,))


def test_memory_is_bounded_by_count_and_age() -> None:
    join = BoxJoin(timeout_ns=10 * MS, retain_ns=1000 * MS, max_entries=8)
    for seq in range(100):  # a detector annotating a camera nobody asks about
        join.add("x", seq, (BOX,), now_ns=seq * MS)
    assert len(join) == 8 and join.counts.evicted == 92
    join.add("y", 0, (), now_ns=2000 * MS)  # every "x" entry is older than retain_ns
    assert len(join) == 1 and join.counts.expired == 8
    for seq in range(100):  # asks that are never followed up are bounded too
        join.ask("z", seq, now_ns=2000 * MS)
    assert len(join._first_asked) <= 8


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        BoxJoin(timeout_ns=-1)
    with pytest.raises(ValueError, match="max_entries"):
        BoxJoin(timeout_ns=0, max_entries=0)


# --- DetectorBoxes on a real nats-server -----------------------------------------------------------------

def detector_annotation(camera: str, seq: int, people: int) -> Annotation:
    objects = tuple(DetectedObject("person", 0, 0.9 - 0.1 * i, (10.0 * i, 20.0, 10.0 * i + 50, 150.0))
                    for i in range(people))
    ball = DetectedObject("sports ball", 32, 0.99, (1.0, 1.0, 5.0, 5.0))  # not a person: never a pose box
    return Annotation(camera=camera, seq=seq, ts=0, model="det", model_version="x", weights="untrained",
                      frame_w=640, frame_h=480, latency=Latency(0, 0, 0), objects=(*objects, ball))


async def ask(boxes: DetectorBoxes, camera: str, seq: int) -> tuple[Joined | Missing, float]:
    """``boxes_for`` in a thread, as the model thread calls it; (outcome, seconds it took)."""
    start = time.monotonic()
    outcome = await asyncio.to_thread(boxes.boxes_for, camera, seq)
    return outcome, time.monotonic() - start


async def test_late_and_missing_detector_messages(nc: NATS) -> None:
    boxes = DetectorBoxes("det", timeout_s=1.0, min_score=0.5)
    await boxes.start(nc)
    try:
        early = detector_annotation("c1", 1, people=3)  # scores 0.9, 0.8, 0.7 (+ the ball)
        await nc.publish(annotations_subject("c1", "det"), early.to_json())
        await nc.flush()
        await asyncio.sleep(0.05)
        outcome, _ = await ask(boxes, "c1", 1)
        assert isinstance(outcome, Joined) and [b[4] for b in outcome.boxes] == pytest.approx([0.9, 0.8, 0.7])

        waiting = asyncio.create_task(ask(boxes, "c1", 2))  # the frame reaches pose first
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await nc.publish(annotations_subject("c1", "det"), detector_annotation("c1", 2, people=1).to_json())
        outcome, took = await asyncio.wait_for(waiting, 5)
        assert isinstance(outcome, Joined) and len(outcome.boxes) == 1 and 0.25 < took < 1.0  # late, joined

        outcome, took = await asyncio.wait_for(ask(boxes, "c1", 3), 5)  # the detector never annotates seq 3
        assert isinstance(outcome, Missing) and 0.95 < took < 2.0
        await nc.publish(annotations_subject("c1", "det"), detector_annotation("c1", 3, people=1).to_json())
        await nc.flush()
        await asyncio.sleep(0.05)
        assert boxes.held() == 0 and boxes.counts.superseded == 1  # too late: discarded, not kept
        await nc.publish(annotations_subject("c1", "det"), b"not json")
        await nc.flush()
        await asyncio.sleep(0.05)
        assert boxes.malformed == 1
    finally:
        await boxes.stop()


@pytest.mark.timeout(60)
async def test_burst_with_detector_and_pose_at_different_rates(nc: NATS) -> None:
    """Detector: every frame but each 5th, at 200 Hz; pose: every 3rd frame, as fast as it can (falling
    behind on each frame the detector skipped, by the timeout)."""
    # the pose model falls ~4 s behind (20 misses x 0.2 s): entries are kept 30 s so none expires
    boxes = DetectorBoxes("det", timeout_s=0.2, max_entries=256, retain_s=30.0)
    await boxes.start(nc)
    frames = 300
    annotated = {seq for seq in range(frames) if seq % 5 != 4}
    held_max = 0

    async def detector() -> None:
        for seq in range(frames):
            if seq in annotated:
                await nc.publish(annotations_subject("c1", "det"), detector_annotation("c1", seq, 1 + seq % 3).to_json())
            if seq % 10 == 9:
                await asyncio.sleep(0.05)  # 10 frames per 50 ms = 200 Hz

    def pose() -> list[tuple[int, Joined | Missing]]:
        nonlocal held_max
        out = []
        for seq in range(0, frames, 3):
            out.append((seq, boxes.boxes_for("c1", seq)))
            held_max = max(held_max, boxes.held())
        return out

    try:
        start = time.monotonic()
        results, _ = await asyncio.gather(asyncio.to_thread(pose), detector())
        took = time.monotonic() - start
    finally:
        await boxes.stop()
    for seq, outcome in results:
        if seq in annotated:
            assert isinstance(outcome, Joined) and len(outcome.boxes) == 1 + seq % 3, seq
        else:
            assert isinstance(outcome, Missing), seq
    missing = sum(1 for s, _ in results if s not in annotated)
    assert took < 3.0 + 0.2 * missing  # each miss costs at most the timeout; no hang
    assert boxes.counts.expired == 0 and boxes.counts.evicted == 0
    assert held_max <= 256 and boxes.held() <= 2  # frames passed over are dropped as the pose model moves on


def test_offer_keeps_the_best_person_boxes_only() -> None:
    boxes = DetectorBoxes("det", timeout_s=0.0, max_boxes=2, clock=lambda: 0)
    boxes.offer(detector_annotation("c", 7, people=4))
    outcome = boxes.boxes_for("c", 7)
    assert isinstance(outcome, Joined) and [b[4] for b in outcome.boxes] == pytest.approx([0.9, 0.8])
    assert isinstance(boxes.boxes_for("c", 8), Missing)  # timeout 0: answered at once
    assert threading.active_count() >= 1
