"""One node of a 3-node NATS cluster dies (SIGKILL) under a running ``courtside up``.

Streams and the segment object store are replicated (R3, created by the operator, which is
the test: ``courtside up`` keeps an existing stream's replica count). The services know only
node 1's URL and learn the others from the cluster; node 1 is killed. Every service moves to
a surviving node by itself (no child restarted), fresh annotations reach the WebSocket client
that stayed connected, every annotation stored before the death is still in the stream and
new ones are stored after it, and every segment ingest shipped is archived: none is lost.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import nats
import pytest
from courtside_contracts.streams import ANNOTATIONS, CLIPS
from courtside_contracts.subjects import SEGMENTS_BUCKET
from nats.js.api import ObjectStoreConfig, StorageType
from prometheus_client.parser import text_string_to_metric_families

from courtside.natsio import ensure_stream
from tests.app.up_harness import running_up
from tests.reliability.nats_process import NatsCluster
from tests.support.media import make_h264_clip
from tests.support.ws_annotations import annotation_feed

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def _replicated_streams(url: str) -> None:
    """ANNOTATIONS and CLIPS as the services make them, but R3; the segment bucket R3."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + 30
        while True:  # the cluster elects its JetStream meta leader first
            try:
                await js.account_info()
                break
            except nats.errors.Error:
                assert time.monotonic() < deadline, "the JetStream cluster did not form"
                await asyncio.sleep(0.2)
        for spec in (ANNOTATIONS, CLIPS):
            await ensure_stream(nc, spec)
            config = (await js.stream_info(spec.name)).config
            config.num_replicas = 3
            await js.update_stream(config)
        await js.create_object_store(SEGMENTS_BUCKET, ObjectStoreConfig(
            description="R3 for the test", max_bytes=256 * 1024**2, storage=StorageType.FILE, replicas=3))
    finally:
        await nc.close()


async def _stream_state(url: str, name: str) -> tuple[int, int, int]:
    """(first_seq, last_seq, replicas) of a stream."""
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info(name)
        assert info.config.num_replicas is not None
        return info.state.first_seq, info.state.last_seq, info.config.num_replicas
    finally:
        await nc.close()


async def _metric_sum(url: str, name: str) -> float:
    async with httpx.AsyncClient(timeout=2) as http:
        text = (await http.get(f"{url}/metrics")).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def _archived(tmp_path: Path) -> int:
    return len(list((tmp_path / "archive").rglob("*.mp4")))


async def test_services_move_to_the_surviving_nodes_and_nothing_replicated_is_lost(tmp_path: Path) -> None:
    cluster = NatsCluster(tmp_path / "cluster")
    cluster.start()
    first, survivor = cluster.nodes[0], cluster.nodes[1]
    try:
        await _replicated_streams(first.url)
        clip = make_h264_clip(tmp_path / "clip.mp4", frames=90)
        archive = {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
                   "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.2}
        async with running_up(tmp_path, nats_url=first.url, cameras=2, clip=clip,
                              extra={"archive": archive}) as up:
            await up.wait_running()
            await up.annotation()
            async with annotation_feed(up.fanout) as feed:
                deadline = time.monotonic() + 60
                while _archived(tmp_path) < 2 or feed.cameras() != {"cam-1", "cam-2"}:
                    assert time.monotonic() < deadline, "annotations or archived segments never came"
                    await asyncio.sleep(0.2)
                ann_first, ann_last, replicas = await _stream_state(first.url, ANNOTATIONS.name)
                assert replicas == 3, "a service scaled the replicated stream down"
                assert (await _stream_state(first.url, CLIPS.name))[2] == 3

                first.kill()
                killed = time.monotonic()
                killed_wall_ns = time.time_ns()
                back = await feed.first_since(killed, killed_wall_ns, cameras=2, within_s=30)
            print(f"fresh annotations after node 1 died: {back} (s after the kill)")
            assert set(back) == {"cam-1", "cam-2"}, f"annotations stopped after node 1 died: {back}"
            assert max(back.values()) < 2.0, back

            deadline = time.monotonic() + 30
            while True:  # stored before the death: all there; and new ones are stored again
                try:  # answers time out while the survivors elect the stream's new leader
                    now_first, now_last, _ = await _stream_state(survivor.url, ANNOTATIONS.name)
                    if now_last > ann_last:
                        break
                except (nats.errors.Error, asyncio.TimeoutError):
                    pass
                assert time.monotonic() < deadline, "no annotation stored after node 1 died"
                await asyncio.sleep(0.2)
            assert now_first == ann_first, "annotations stored before the death were lost"
            nc = await nats.connect(survivor.url)
            try:
                js = nc.jetstream()
                for seq in (ann_first, (ann_first + ann_last) // 2, ann_last):
                    stored = await js.get_msg(ANNOTATIONS.name, seq)
                    assert stored.data and stored.subject.startswith("annotations.")
            finally:
                await nc.close()

            shipped = await _metric_sum(up.ingest, "courtside_ingest_recording_shipped_total")
            deadline = time.monotonic() + 60
            while _archived(tmp_path) < shipped:  # every segment handed to NATS reaches the archive
                assert time.monotonic() < deadline, f"{shipped} shipped, {_archived(tmp_path)} archived"
                await asyncio.sleep(0.2)
            services = await up.services()
            assert all(s["state"] == "running" and s["restarts"] == 0 for s in services.values()), services
            for url, service in ((up.fanout, "fanout"), (up.ingest, "ingest")):
                assert await _metric_sum(url, f"courtside_{service}_nats_connected") == 1
                assert await _metric_sum(url, f"courtside_{service}_nats_reconnects_total") >= 1
        assert up.proc.returncode == 0
        assert "Traceback" not in up.log_text(), up.log_text()[-3000:]
    finally:
        cluster.stop()
