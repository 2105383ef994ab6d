"""The court in the sidecar: the header carries the camera's calibration from the key-value bucket
(read only; none or unreadable: null, and the segment is archived all the same). Real nats-server,
the real archiver, the local store, a real recorded segment."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id
from courtside_contracts.subjects import CALIBRATION_BUCKET
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig

from analytics.calibration_store import CalibrationStore
from courtside.nats_server import EmbeddedNats
from courtside.nats_users import service_users, user_url
from fanout.archive import calibration, sidecar
from fanout.archive.archiver import Archiver
from fanout.archive.store import LocalStore
from tests.archive.segment_support import FRAME_NS, RealSegment, announce, record_segment
from tests.archive.test_archive_pipeline import archive_config, archived, running_archiver

pytestmark = pytest.mark.timeout(120)
RECORD = CalibrationRecord("cam-0", 1280, 720, {"near_left": (102.5, 640.0), "far_right": (1010.0, 210.25)},
                           set_ns=1_700_000_000_000_000_000, source="test points")


# -- pure --------------------------------------------------------------------------------------

def test_header_value_is_the_record_and_its_revision_or_none() -> None:
    value = calibration.header_value(RECORD.to_json(), 3)
    assert value == {"revision": 3, "record": json.loads(RECORD.to_json())}
    assert calibration.header_value(None, None) is None and calibration.header_value(b"", 4) is None
    bad = calibration.header_value(b'{"camera": "cam-0"}', 5)
    assert isinstance(bad, calibration.Unreadable) and "revision 5" in bad.why


def _segment(start_ns: int, frames: int = 30) -> SegmentMessage:
    index = tuple(IndexEntry(i + 1, i / 30, start_ns + i * FRAME_NS) for i in range(frames))
    return SegmentMessage(segment_id("cam-0", start_ns), "cam-0", start_ns, start_ns + frames * FRAME_NS, "h264",
                          640, 360, 1000, segment_id("cam-0", start_ns), 1, 0, 0.0, index)


def test_the_header_says_null_without_a_calibration_and_the_bytes_are_stable() -> None:
    segment = _segment(10**18)
    court = calibration.header_value(RECORD.to_json(), 2)
    assert not isinstance(court, calibration.Unreadable)
    with_court = sidecar.build(segment, [], court)
    assert with_court == sidecar.build(segment, [], json.loads(json.dumps(court)))  # rebuilt: same bytes
    assert json.loads(with_court.split(b"\n", 1)[0])["calibration"]["revision"] == 2
    assert json.loads(sidecar.build(segment, []).split(b"\n", 1)[0])["calibration"] is None


# -- the archiver against a real server ----------------------------------------------------------

@pytest.fixture
def real_segment(tmp_path: Path) -> RealSegment:
    return record_segment(tmp_path)


async def archived_header(nc: NATS, tmp_path: Path, seg: RealSegment) -> tuple[dict[str, Any], Archiver]:
    """Archive one segment with a real archiver; its sidecar's header once both objects are there."""
    config = archive_config(tmp_path, tmp_path / "clip.mp4", kind="local", cameras=1)
    store = LocalStore(tmp_path / "archive")
    await announce(nc, seg, time.time_ns() - 2 * 10**9)
    async with running_archiver(nc, store, config) as archiver:
        deadline = time.monotonic() + 60
        while archiver.stats.archived < 1:
            assert time.monotonic() < deadline, f"not archived: {archiver.stats}"
            await asyncio.sleep(0.1)
    [side] = archived(store, ".jsonl")
    assert len(archived(store, ".mp4")) == 1
    return json.loads(store.read(side).split(b"\n", 1)[0]), archiver


async def test_the_header_carries_the_calibration_written_to_the_bucket(
        tmp_path: Path, nc: NATS, real_segment: RealSegment) -> None:
    court = await CalibrationStore.open(nc)  # the analytics service's writer
    await court.put(RECORD)
    revision = await court.put(RECORD)  # a second version: the header has the current one
    head, archiver = await archived_header(nc, tmp_path, real_segment)
    assert head["calibration"] == {"revision": revision, "record": json.loads(RECORD.to_json())}
    assert revision == 2 and archiver.stats.calibration_unreadable == 0
    assert CalibrationRecord.from_json(json.dumps(head["calibration"]["record"])) == RECORD


async def test_a_garbage_calibration_gives_a_null_header_and_the_segment_is_archived(
        tmp_path: Path, nc: NATS, real_segment: RealSegment) -> None:
    kv = await nc.jetstream().create_key_value(KeyValueConfig(bucket=CALIBRATION_BUCKET, history=4))
    await kv.put("cam-0", b"\x00 not a calibration {")
    head, archiver = await archived_header(nc, tmp_path, real_segment)
    assert head["calibration"] is None and head["segment"]["camera"] == "cam-0"
    assert archiver.stats.calibration_unreadable == 1 and archiver.stats.archived == 1


async def test_without_a_bucket_the_header_says_null(tmp_path: Path, nc: NATS, real_segment: RealSegment) -> None:
    head, archiver = await archived_header(nc, tmp_path, real_segment)
    assert head["calibration"] is None and archiver.stats.calibration_unreadable == 0


# -- permissions ---------------------------------------------------------------------------------

@pytest.fixture
async def as_users() -> AsyncIterator[dict[str, NATS]]:
    users = service_users()
    with EmbeddedNats(users=users) as server:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        clients = {name: await nats.connect(user_url(server.url, users[name]), error_cb=on_error,
                                            allow_reconnect=False) for name in ("analytics", "fanout")}
        try:
            yield clients
        finally:
            for client in clients.values():
                await client.close()


async def test_fanouts_user_reads_the_calibration_but_may_not_write_it(as_users: dict[str, NATS]) -> None:
    store = await CalibrationStore.open(as_users["analytics"])
    revision = await store.put(RECORD)
    found = await calibration.read_calibration(as_users["fanout"], "cam-0")
    assert found == {"revision": revision, "record": json.loads(RECORD.to_json())}
    kv = await as_users["fanout"].jetstream(timeout=1.5).key_value(CALIBRATION_BUCKET)
    with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
        await kv.put("cam-0", b"forged")
    assert await calibration.read_calibration(as_users["fanout"], "cam-0") == found
