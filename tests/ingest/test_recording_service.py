"""The ingest service records when ``archive.kind`` is set: segments reach the archive through
NATS, the heartbeat's camera entry reports recording, and a WHIP camera without a publisher is
not reported as unrecorded."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ingest_testkit import running_ingest, wait_heartbeat
from nats.aio.client import Client as NATS

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive.archiver import Archiver
from fanout.archive.store import LocalStore


async def test_service_records_into_the_archive(tmp_path: Path, nats_server: EmbeddedNats, nc: NATS,
                                                clip_path: Path) -> None:
    config = parse_config({
        "ingest": {"host": "127.0.0.1", "port": 0, "instance": "ingest-test"},
        "cameras": [{"id": "rec", "url": f"file://{clip_path}", "fps": 10, "max_side": 320},
                    {"id": "push", "url": "whip://push"}],
        "archive": {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                    "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.2},
    }, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    archiver = Archiver(nc, store, config.archive)
    task = asyncio.create_task(archiver.run())
    try:
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
    finally:
        task.cancel()
    assert archiver.stats.archived >= 2
    keys = [o.key for o in store.list("courtside/rec/") if o.key.endswith(".mp4")]
    assert len(keys) >= 2
