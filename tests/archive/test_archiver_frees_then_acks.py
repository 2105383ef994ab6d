"""No copy outlives its archiving: the archiver frees the object store's copy before it acks,
so a failed free is retried and a redelivered message of an archived segment is verified, freed
and acked, never reported lost. Real nats-server, the real archiver, the local store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from fanout.archive import archiver as archiver_module
from fanout.archive.archiver import Archiver, ArchiverStats
from fanout.archive.store import LocalStore
from tests.archive.segment_support import announce, copies_left, record_segment
from tests.archive.test_archive_pipeline import archive_config, archived, running_archiver

pytestmark = pytest.mark.timeout(120)


async def settle(nc: NATS, archiver: Archiver, done: Callable[[ArchiverStats], bool],
                 timeout_s: float = 60.0) -> None:
    """Wait until ``done(stats)`` holds and no copy is left in NATS."""
    deadline = time.monotonic() + timeout_s
    while not (done(archiver.stats) and not await copies_left(nc)):
        assert time.monotonic() < deadline, f"not settled: {archiver.stats}, left {await copies_left(nc)}"
        await asyncio.sleep(0.1)


async def test_a_failed_free_is_retried_before_the_ack(
        tmp_path: Path, nc: NATS, monkeypatch: pytest.MonkeyPatch) -> None:
    real_delete = archiver_module.delete_segment
    failures = [TimeoutError("object store did not answer")]

    async def delete_failing_once(nc: NATS, name: str) -> None:
        if failures:
            raise failures.pop()
        await real_delete(nc, name)

    monkeypatch.setattr(archiver_module, "delete_segment", delete_failing_once)
    config = archive_config(tmp_path, tmp_path / "clip.mp4", kind="local", cameras=1)
    store = LocalStore(tmp_path / "archive")
    await announce(nc, record_segment(tmp_path), time.time_ns() - 2 * 10**9)
    async with running_archiver(nc, store, config) as archiver:
        await settle(nc, archiver, lambda stats: stats.verified_existing >= 1)
    assert not failures and archiver.stats.retries == 1 and "freeing" in archiver.stats.last_error
    assert archiver.stats.archived == 1 and archiver.stats.missing == 0
    assert len(archived(store, ".mp4")) == 1 and len(archived(store, ".jsonl")) == 1


async def test_a_redelivered_archived_segment_is_verified_not_lost(tmp_path: Path, nc: NATS) -> None:
    config = archive_config(tmp_path, tmp_path / "clip.mp4", kind="local", cameras=1)
    store = LocalStore(tmp_path / "archive")
    seg = record_segment(tmp_path)
    start_ns = time.time_ns() - 2 * 10**9
    await announce(nc, seg, start_ns)
    async with running_archiver(nc, store, config) as archiver:
        await settle(nc, archiver, lambda stats: stats.archived >= 1)
        # The archiver stopped after the free and before the ack: the same message comes again.
        await announce(nc, seg, start_ns, msg_id="redelivered", copy=False)
        await settle(nc, archiver, lambda stats: stats.verified_existing >= 1)
    assert archiver.stats.archived == 1 and archiver.stats.missing == 0 and archiver.stats.corrupt == 0
    assert len(archived(store, ".mp4")) == 1
