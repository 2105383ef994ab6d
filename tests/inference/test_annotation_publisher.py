"""build_annotation (pure) and AnnotationPublisher against a real nats-server."""

from __future__ import annotations

import contextlib

import nats
import nats.errors
import pytest
from courtside_contracts.annotations import MAX_OBJECTS, Annotation, Ball, DetectedObject
from courtside_contracts.headers import MSG_ID, FrameMeta, annotation_msg_id
from courtside_contracts.subjects import annotations_subject
from nats.aio.client import Client as NATS

from courtside.nats_server import EmbeddedNats
from inference.backends.base import FrameResult
from inference.runtime.annotation_publisher import AnnotationPublisher, build_annotation
from inference.runtime.processing import FrameDone

MS = 1_000_000


def obj(score: float) -> DetectedObject:
    return DetectedObject("person", 0, score, (1.0, 2.0, 30.0, 40.0))


def test_annotation_carries_the_frame_the_model_and_the_latencies() -> None:
    meta = FrameMeta("court-1", 7, 1_000 * MS, 1280, 720)
    done = FrameDone(FrameResult((obj(0.9),), Ball(10.0, 20.0, 0.5, True)), 1280, 720)
    ann = build_annotation(meta, done, "yolo", "v1", "trained", queue_ms=3.0, infer_ms=20.0,
                           published_ns=1_045 * MS)
    assert (ann.camera, ann.seq, ann.ts, ann.model, ann.model_version, ann.weights) == (
        "court-1", 7, 1_000 * MS, "yolo", "v1", "trained")
    assert (ann.frame_w, ann.frame_h) == (1280, 720)
    assert (ann.latency.queue, ann.latency.infer, ann.latency.total) == (3.0, 20.0, 45.0)
    assert ann.objects == (obj(0.9),) and ann.ball == Ball(10.0, 20.0, 0.5, True)
    assert ann.trained_on is None


def test_trained_weights_say_what_they_were_trained_on_untrained_never() -> None:
    done = FrameDone(FrameResult(()), 640, 360)
    meta = FrameMeta("court-1", 1, 0, 640, 360)
    said = build_annotation(meta, done, "ball", "v", "trained", 0.0, 0.0, 0, trained_on="synthetic court")
    assert said.trained_on == "synthetic court"
    assert build_annotation(meta, done, "ball", "v", "untrained", 0.0, 0.0, 0, trained_on="x").trained_on is None


def test_too_many_objects_keep_the_best_scores() -> None:
    scores = [i / (MAX_OBJECTS + 10) for i in range(MAX_OBJECTS + 10)]
    done = FrameDone(FrameResult(tuple(obj(s) for s in scores)), 640, 480)
    ann = build_annotation(FrameMeta("c", 1, 0, 640, 480), done, "m", "v", "untrained", 0.0, 0.0, 0)
    assert len(ann.objects) == MAX_OBJECTS
    assert min(o.score for o in ann.objects) == sorted(scores)[10]


async def test_publisher_sends_on_the_annotation_subject_and_counts_failures(nats_server: EmbeddedNats,
                                                                             nc: NATS) -> None:
    meta = FrameMeta("court-1", 3, 5 * MS, 320, 240)
    done = FrameDone(FrameResult((obj(0.5),)), 320, 240)
    sender = await nats.connect(nats_server.url)
    publisher = AnnotationPublisher(sender, "yolo", "v1", "untrained")
    sub = await nc.subscribe(annotations_subject("court-1", "yolo"))
    await nc.flush()  # the subscription is registered before anything is sent
    for _ in range(20):  # a just-started nats-server may not route the very first messages yet
        sent = await publisher.publish(meta, done, 1.0, 2.0)
        with contextlib.suppress(nats.errors.TimeoutError):
            msg = await sub.next_msg(timeout=0.5)
            break
    else:
        pytest.fail("no annotation arrived in 20 tries")
    assert sent is not None and Annotation.from_json(msg.data).to_json() == sent.to_json()
    assert msg.headers is not None and msg.headers[MSG_ID] == annotation_msg_id("court-1", "yolo", 3)
    await sender.close()
    assert await publisher.publish(meta, done, 1.0, 2.0) is None  # closed connection: lost, counted
    assert publisher.failed == 1 and await publisher.publish(meta, done, 1.0, 2.0) is None
    assert publisher.failed == 2
