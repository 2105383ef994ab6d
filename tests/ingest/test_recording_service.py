"""The ingest service records when ``archive.kind`` is set: segments reach the archive through
NATS, the heartbeat's camera entry reports recording, and a WHIP camera without a publisher is
not reported as unrecorded."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ingest_testkit import local_archive, running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive.store import LocalStore
from tests.archive.test_archive_pipeline import running_archiver


async def test_service_records_into_the_archive(tmp_path: Path, nats_server: EmbeddedNats, nc: NATS,
                                                clip_path: Path) -> None:
    config = parse_config({
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "ingest-test"},
        "cameras": [{"id": "rec", "url": f"file://{clip_path}", "fps": 10, "max_side": 320},
                    {"id": "push", "url": "whip://push"}],
        "archive": local_archive(tmp_path, segment_s=2.0),
    }, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    async with running_archiver(nc, store, config) as archiver:
        async with running_ingest(config, nats_server.url):
            beat = await wait_heartbeat(nc, lambda h: h.cameras.get("rec", {}).get("recording", {}).get(
                "shipped", 0) >= 2, timeout_s=20)
            assert beat.cameras["rec"]["recording"]["on"] is True
            # A WHIP camera is recorded once a publisher comes (tests/ingest/test_whip_recording.py):
            # until then it is off, with nothing reported as lost or not recorded.
            push = beat.cameras["push"]["recording"]
            assert push["on"] is False and push["segments"] == 0 and push["reason"] == "", push
            assert not any(e.startswith("push:") for e in beat.errors)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and archiver.stats.archived < 2:  # noqa: ASYNC110 - counters
                await asyncio.sleep(0.1)
    assert archiver.stats.archived >= 2
    keys = [o.key for o in store.list("courtside/rec/") if o.key.endswith(".mp4")]
    assert len(keys) >= 2
