"""No fixed waits between a closed segment and its archive: ingest ships it once a later frame
was published (its index is complete), and the archiver stops reading annotations once every
model answered past the segment's last frame, waiting the grace only for a model that lags."""

from __future__ import annotations

import time

import pytest
from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id
from courtside_contracts.streams import ANNOTATIONS
from nats.aio.client import Client as NATS

from courtside.natsio import ensure_stream
from fanout.archive import sidecar
from fanout.testing import make_annotation, publish_annotation
from ingest.recording.shipper import SeqIndex

pytestmark = pytest.mark.timeout(60)
FRAME_NS = 33_333_333


def test_caught_up_needs_every_model_seen_past_the_last_frame() -> None:
    assert not sidecar.caught_up({}, 100)  # nothing seen yet: keep reading (up to the grace)
    assert sidecar.caught_up({"yolo": 100, "pose": 130}, 100)
    assert not sidecar.caught_up({"yolo": 100, "pose": 99}, 100)


def test_the_seq_index_knows_when_publishing_passed_a_time() -> None:
    seqs = SeqIndex()
    assert not seqs.past(1)
    seqs.add(1, 1_000, 0.0)
    seqs.add(2, 2_000, None)  # a frame without pts still moves the publisher's clock
    assert seqs.past(2_000) and not seqs.past(2_001)


def _segment(now_ns: int, frames: int = 30) -> SegmentMessage:
    start = now_ns - frames * FRAME_NS
    index = tuple(IndexEntry(i + 1, i / 30, start + i * FRAME_NS) for i in range(frames))
    return SegmentMessage(segment_id("cam-0", start), "cam-0", start, start + frames * FRAME_NS, "h264", 640, 360,
                          1000, segment_id("cam-0", start), 1, 0, 0.0, index)


async def test_annotations_are_read_as_soon_as_every_model_is_past_the_segment(nc: NATS) -> None:
    await ensure_stream(nc, ANNOTATIONS)
    segment = _segment(time.time_ns())
    for entry in segment.index:
        for model in ("boxes", "pose"):
            assert entry.seq is not None
            await publish_annotation(nc, make_annotation("cam-0", model, entry.seq, ts=entry.ts))
    # Both models answered the next segment's first frame: nothing of this one is on its way.
    for model in ("boxes", "pose"):
        await publish_annotation(nc, make_annotation("cam-0", model, 31, ts=segment.end_ns))
    await nc.flush()
    t0 = time.monotonic()
    found = (await sidecar.read_lines(nc, segment, grace_s=5.0)).annotations
    took = time.monotonic() - t0
    assert len(found) == 60 and {a["model"] for a in found} == {"boxes", "pose"}
    assert took < 1.0, f"waited {took:.2f} s although every model was past the segment"


async def test_a_lagging_model_is_waited_for_up_to_the_grace(nc: NATS) -> None:
    await ensure_stream(nc, ANNOTATIONS)
    segment = _segment(time.time_ns())
    for entry in segment.index:
        assert entry.seq is not None
        await publish_annotation(nc, make_annotation("cam-0", "boxes", entry.seq, ts=entry.ts))
        if entry.seq <= 10:  # pose is 20 frames behind
            await publish_annotation(nc, make_annotation("cam-0", "pose", entry.seq, ts=entry.ts))
    await nc.flush()
    t0 = time.monotonic()
    found = (await sidecar.read_lines(nc, segment, grace_s=1.0)).annotations
    took = time.monotonic() - t0
    assert len(found) == 40  # what had arrived when the grace ran out
    assert 0.5 < took < 3.0, f"expected a wait of about the 1 s grace, took {took:.2f} s"
