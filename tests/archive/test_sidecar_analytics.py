"""Analytics in the sidecar: ``analytics.<camera>`` (plain core publishes) kept by the ANNOTATIONS stream,
read with the segment's annotations into lines of their own type, in frame order, each once; an older
stream without them and an older sidecar without them still work. Real nats-server, the real archiver,
the local store."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from courtside_contracts.analytics import AnalyticsMessage, BallState, CalibrationInfo, PlayerState
from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id
from courtside_contracts.streams import ANNOTATIONS, StreamSpec
from courtside_contracts.subjects import ANNOTATIONS_ALL, ANNOTATIONS_STREAM, analytics_subject
from nats.aio.client import Client as NATS

from courtside.natsio import ensure_stream
from fanout.archive import layout, sidecar
from fanout.archive.replay import Replay
from fanout.archive.store import LocalStore
from fanout.testing import make_annotation, publish_annotation
from tests.archive.test_archive_pipeline import archive_config, archived, running_archiver
from tests.archive.test_sidecar_court import FRAME_NS, RealSegment, announce, real_segment

pytestmark = pytest.mark.timeout(120)
__all__ = ["real_segment"]  # the fixture, used by name


def analytics(seq: int, ts: int, camera: str = "cam-0") -> AnalyticsMessage:
    zones = {"net": 0.0, "transition": 0.0, "back": 1.0}
    return AnalyticsMessage(camera, seq, ts, CalibrationInfo(2, "pose", 0.5),
                            (PlayerState(1, "near", 0.5, 2.0, 1.5, 3.0, "back", zones),),
                            BallState(0.0, 9.0, 1.2, 20.0, 0.5, "3d"))


def segment(start_ns: int, frames: int = 30) -> SegmentMessage:
    index = tuple(IndexEntry(i + 1, i / 30, start_ns + i * FRAME_NS) for i in range(frames))
    return SegmentMessage(segment_id("cam-0", start_ns), "cam-0", start_ns, start_ns + frames * FRAME_NS, "h264",
                          640, 360, 1000, segment_id("cam-0", start_ns), 1, 0, 0.0, index)


# -- pure --------------------------------------------------------------------------------------

def test_analytics_lines_in_range_valid_and_once_sorted_after_their_frames_annotations() -> None:
    seg = segment(10**18)
    ts = [e.ts for e in seg.index]
    raws = [analytics(3, ts[2]).to_json(), analytics(1, ts[0]).to_json(), analytics(1, ts[0]).to_json(),
            analytics(2, ts[1], camera="cam-9").to_json(),  # another camera
            analytics(99, seg.end_ns).to_json(),  # the next segment's first frame
            b'{"v": 1, "camera": "cam-0", "seq": 4}', b"not json"]
    lines = sidecar.select_analytics(seg, raws)
    assert [(line["type"], line["seq"]) for line in lines] == [("analytics", 1), ("analytics", 3)]
    assert AnalyticsMessage.from_dict({k: v for k, v in lines[0].items() if k != "type"}) == analytics(1, ts[0])
    anns = [json.loads(make_annotation("cam-0", m, s + 1, ts=ts[s]).to_json()) for s in (0, 2) for m in ("pose", "box")]
    body = sidecar.build(seg, sidecar.select(seg, [json.dumps(a).encode() for a in anns]), None, lines)
    head, *rest = [json.loads(line) for line in body.splitlines()]
    assert head["annotations"] == 4 and head["analytics"] == 2
    assert [(r["ts"], r.get("type", r.get("model"))) for r in rest] == [
        (ts[0], "box"), (ts[0], "pose"), (ts[0], "analytics"), (ts[2], "box"), (ts[2], "pose"), (ts[2], "analytics")]
    assert body == sidecar.build(seg, sidecar.select(seg, [json.dumps(a).encode() for a in reversed(anns)]), None,
                                 sidecar.select_analytics(seg, reversed(raws)))  # rebuilt: the same bytes


# -- against a real server -----------------------------------------------------------------------

async def publish_frames(nc: NATS, seg: SegmentMessage, analysed: int) -> None:
    """Annotations of every frame, and analytics (core publish) of the first ``analysed``."""
    for entry in seg.index:
        assert entry.seq is not None
        await publish_annotation(nc, make_annotation("cam-0", "boxes", entry.seq, ts=entry.ts))
        if entry.seq <= analysed:
            await nc.publish(analytics_subject("cam-0"), analytics(entry.seq, entry.ts).to_json())
    await nc.flush()


async def test_analytics_are_kept_and_read_with_the_annotations(nc: NATS) -> None:
    await ensure_stream(nc, ANNOTATIONS)
    seg = segment(time.time_ns())
    await publish_frames(nc, seg, analysed=30)
    await publish_annotation(nc, make_annotation("cam-0", "boxes", 31, ts=seg.end_ns))
    await nc.publish(analytics_subject("cam-0"), analytics(31, seg.end_ns).to_json())
    await nc.flush()
    t0 = time.monotonic()
    found = await sidecar.read_lines(nc, seg, grace_s=5.0)
    took = time.monotonic() - t0
    assert len(found.annotations) == 30 and [a["seq"] for a in found.analytics] == list(range(1, 31))
    assert took < 2.0, f"waited {took:.2f} s although every producer was past the segment"


async def test_lagging_analytics_are_waited_for_up_to_the_grace(nc: NATS) -> None:
    await ensure_stream(nc, ANNOTATIONS)
    seg = segment(time.time_ns())
    await publish_frames(nc, seg, analysed=10)  # analytics 20 frames behind
    await publish_annotation(nc, make_annotation("cam-0", "boxes", 31, ts=seg.end_ns))
    await nc.flush()
    t0 = time.monotonic()
    found = await sidecar.read_lines(nc, seg, grace_s=1.0)
    took = time.monotonic() - t0
    assert len(found.annotations) == 30 and len(found.analytics) == 10
    assert 0.5 < took < 4.0, f"expected a wait of about the 1 s grace, took {took:.2f} s"


async def test_a_stream_without_the_analytics_subjects_still_gives_the_annotations(nc: NATS) -> None:
    await ensure_stream(nc, StreamSpec(ANNOTATIONS_STREAM, (ANNOTATIONS_ALL,), "limits", 3600, 1 << 26))
    seg = segment(time.time_ns())
    await publish_frames(nc, seg, analysed=30)  # not kept: no stream has analytics.*
    found = await sidecar.read_lines(nc, seg, grace_s=0.3)
    assert len(found.annotations) == 30 and found.analytics == []
    await ensure_stream(nc, ANNOTATIONS)  # a service with the new spec updates the stream in place
    info = await nc.jetstream().stream_info(ANNOTATIONS_STREAM)
    assert set(info.config.subjects or []) == set(ANNOTATIONS.subjects)


async def test_the_archived_sidecar_has_the_analytics_and_replay_reads_old_and_new(
        tmp_path: Path, nc: NATS, real_segment: RealSegment) -> None:
    await ensure_stream(nc, ANNOTATIONS)
    config = archive_config(tmp_path, tmp_path / "clip.mp4", kind="local", cameras=1)
    store = LocalStore(tmp_path / "archive")
    start = time.time_ns() - 10**8  # stored within the segment (+ grace), as live annotations are
    seg = segment(start)
    await publish_frames(nc, seg, analysed=30)
    await announce(nc, real_segment, start)
    async with running_archiver(nc, store, config) as archiver:
        deadline = time.monotonic() + 60
        while archiver.stats.archived < 1:
            assert time.monotonic() < deadline, f"not archived: {archiver.stats}"
            await asyncio.sleep(0.1)
    [side] = archived(store, ".jsonl")
    head, *lines = [json.loads(line) for line in store.read(side).splitlines()]
    assert (head["analytics"], head["annotations"], head["calibration"]) == (30, 30, None), (head, archiver.stats)
    kinds = [line.get("type", "annotation") for line in lines]
    assert kinds == ["annotation", "analytics"] * 30  # each frame's annotation, then its analytics
    assert [line["ts"] for line in lines] == sorted(line["ts"] for line in lines)

    # An old sidecar (no analytics, no calibration in its header) beside it.
    old = segment(start + 10 * 10**9)
    old_key = layout.segment_key(config.archive.prefix, "cam-0", old.start_ns, old.end_ns)
    old_lines = [{"type": "header", "v": 1, "segment": old.to_dict(), "models": [], "annotations": 1},
                 json.loads(make_annotation("cam-0", "boxes", 1, ts=old.start_ns).to_json())]
    store.put_new(old_key, real_segment.data, "video/mp4", {})
    store.put_new(layout.sidecar_key(old_key), "".join(json.dumps(x) + "\n" for x in old_lines).encode(),
                  "application/x-ndjson", {})
    replay = Replay(store, config.archive, None)
    got = await replay.annotations("cam-0", start, old.end_ns)
    assert len(got["annotations"]) == 31 and len(got["analytics"]) == 30
    assert all(a["type"] == "analytics" for a in got["analytics"])
    assert [s["calibration"] for s in got["segments"]] == [None, None]
    old_only = await replay.annotations("cam-0", old.start_ns, old.end_ns)
    assert len(old_only["annotations"]) == 1 and old_only["analytics"] == []
