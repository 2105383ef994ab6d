"""A real recorded segment and its ``clips`` announcement, for tests that drive the archiver alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id
from courtside_contracts.streams import CLIPS
from courtside_contracts.subjects import SEGMENTS_BUCKET, clips_subject
from nats.aio.client import Client as NATS
from nats.js.api import ObjectStoreConfig
from nats.js.errors import NotFoundError

from courtside.natsio import ensure_stream
from fanout.archive.store import crc32c_of
from ingest.av_source import AvSource, OpenOptions
from ingest.recording.recorder import CameraRecorder, RecordingOptions
from ingest.recording.spool import Spool, SpoolLimits
from tests.support.media import make_h264_clip

#: One frame at 30 fps, ns.
FRAME_NS = 33_333_333


@dataclass
class RealSegment:
    data: bytes
    fragments: int


def record_segment(tmp_path: Path, frames: int = 30) -> RealSegment:
    """One fMP4 segment of cam-0 (``frames`` at 30 fps), recorded by the real recorder from an H.264 clip."""
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=frames, fps=30)
    spool = Spool("cam-0", tmp_path / "s", SpoolLimits(1 << 30, 1e9))
    rec = CameraRecorder("cam-0", spool, RecordingOptions(60.0, 0.5))
    with AvSource(str(clip), OpenOptions(live=False), packets=rec) as source:
        for _ in source.frames():
            pass
    [seg] = spool.pending()
    return RealSegment(spool.media_path(seg.segment_id).read_bytes(), seg.fragments)


async def announce(nc: NATS, seg: RealSegment, start_ns: int, *, msg_id: str = "",
                   copy: bool = True) -> SegmentMessage:
    """Put ``seg`` into the object store and publish its ``clips.cam-0`` message (one index entry per frame).

    ``msg_id``: the JetStream de-duplication id (default: the segment id); another id publishes
    the same message again, as a redelivery would hand it over. ``copy=False``: the object
    store's copy is not put (as after the archiver freed it).
    """
    js = nc.jetstream()
    await ensure_stream(nc, CLIPS)
    obj = await js.create_object_store(SEGMENTS_BUCKET, ObjectStoreConfig(max_bytes=1 << 28))
    seg_id = segment_id("cam-0", start_ns)
    if copy:
        await obj.put(seg_id, seg.data)
    msg = SegmentMessage(segment_id=seg_id, camera="cam-0", start_ns=start_ns, end_ns=start_ns + 30 * FRAME_NS,
                         codec="h264", width=640, height=360, size=len(seg.data), object_key=seg_id,
                         fragments=seg.fragments, crc32c=crc32c_of(seg.data), pts_origin=0.0,
                         index=tuple(IndexEntry(i + 1, i / 30, start_ns + i * FRAME_NS) for i in range(30)))
    await js.publish(clips_subject("cam-0"), msg.to_json(), headers={"Nats-Msg-Id": msg_id or seg_id})
    return msg


async def copies_left(nc: NATS) -> list[str]:
    """Names of the segments still in the object store (none once archived)."""
    objects = await nc.jetstream().object_store(SEGMENTS_BUCKET)
    try:
        return [o.name for o in await objects.list() if not o.deleted]
    except NotFoundError:  # nats-py's answer for a bucket with no objects
        return []
