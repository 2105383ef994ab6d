"""NATS killed and restarted while two cameras record: segments closed meanwhile wait in the
spool; those the spool's age limit drops are counted and reported (camera status, heartbeat,
errors), and every other segment reaches the archive exactly once. Real nats-server (same
port and store after the restart), real recording path, real archiver, local archive."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import nats
import pytest

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats
from fanout.archive.store import LocalStore
from tests.archive.recording_harness import recording_ingest
from tests.archive.test_archive_pipeline import archived, running_archiver, wait_for
from tests.support.media import make_h264_clip

#: Seconds NATS stays down, and the spool's age limit: segments older than that are dropped.
DOWN_S, MAX_AGE_S = 10.0, 5.0


@pytest.mark.timeout(240)  # ~25 s of recording with the outage, then the backlog, on a loaded runner
async def test_nats_restart_loses_only_what_the_spool_limit_drops_and_says_so(tmp_path: Path) -> None:
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=120, fps=30)
    config = parse_config({
        "cameras": [{"id": f"cam-{i}", "url": f"file://{clip}", "fps": 30, "max_side": 320} for i in range(2)],
        "archive": {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                    "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.3,
                    "spool_max_age_s": MAX_AGE_S}}, "<test>", environ={})
    store = LocalStore(tmp_path / "archive")
    with EmbeddedNats(store_dir=tmp_path / "jetstream") as server:
        nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        try:
            async with recording_ingest(config, nc) as recording:
                async with running_archiver(nc, store, config):
                    await wait_for(lambda: len(archived(store, ".mp4")) >= 2, 30, "first segments archived")
                    pid = server.pid
                    assert pid is not None
                    os.kill(pid, signal.SIGKILL)
                    deadline = time.monotonic() + 5
                    while server.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - a child's exit
                        await asyncio.sleep(0.05)
                    assert server.poll() is not None
                    await asyncio.sleep(DOWN_S)
                    # Meanwhile: segments were closed into the spool, the oldest dropped, and that is said.
                    for camera in ("cam-0", "cam-1"):
                        target = recording.targets[camera]
                        assert target.spool.evicted > 0, f"{camera}: {DOWN_S} s down, {MAX_AGE_S} s age limit"
                        assert "lost" in recording.status_reason(camera)
                        entry = recording.heartbeat_entry(camera)["recording"]
                        assert isinstance(entry, dict) and entry["lost"] == target.spool.evicted
                    assert any("lost" in line for line in recording.errors())
                    server.restart()
                    await wait_for(lambda: all(not t.spool.pending() for t in recording.targets.values()), 60,
                                   "the spool drained after the restart")
                    await asyncio.sleep(2.0)  # a few segments recorded after the restart
            # Ingest stopped: its last segments closed and shipped on the way out.
            closed = {c: r.stats.segments for c, r in recording.recorders.items()}
            evicted = {c: t.spool.evicted for c, t in recording.targets.items()}
            shipped = {seg_id for _cam, seg_id, _c, _e in recording.shipper.shipped}
            async with running_archiver(nc, store, config):
                await wait_for(lambda: len(archived(store, ".mp4")) >= len(shipped), 60, "every shipped segment")
                await asyncio.sleep(1.0)
        finally:
            await nc.close()
    mp4s = archived(store, ".mp4")
    ids = [store.stat(k).metadata["segment_id"] for k in mp4s]  # type: ignore[union-attr]
    assert sorted(ids) == sorted(shipped), "every shipped segment archived, exactly once"
    assert len(archived(store, ".jsonl")) == len(mp4s)
    for camera in ("cam-0", "cam-1"):
        mine = [i for i in ids if i.startswith(camera + "-")]
        # Nothing lost beyond the spool's limit: each closed segment was archived or counted as dropped.
        assert len(mine) + evicted[camera] == closed[camera], (camera, len(mine), evicted, closed)
        assert len(mine) >= 4
