"""The NATS server dies (SIGKILL) under a running ``courtside up`` and comes back on the same
port with the same store.

Two cameras, the ``brightest`` model and the archive on, against a nats-server the test
owns (``nats.url``). While it is down: every service stays up, its ``/readyz`` and its
``nats_connected`` metric say NATS is not connected, the WebSocket client stays connected. Once it is back:
every service has reconnected by itself (``nats_reconnects_total`` 1, no child restarted), fresh annotations of both
cameras reach the client that stayed connected within 2 s, and the JetStream streams and
durable consumers are the same ones, still taking messages and archiving segments.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.up_harness import Up, running_up
from tests.reliability.nats_process import NatsProcess
from tests.support.media import make_h264_clip
from tests.support.ws_annotations import annotation_feed

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

#: The promise under test: seconds from the server's return to fresh annotations at the client.
BACK_WITHIN_S = 2.0


async def _jetstream(url: str) -> dict[str, tuple[frozenset[str], int]]:
    """``stream -> (durable consumer names, messages)``. (The archiver's sidecar reads use ephemeral
    consumers that the server removes after 30 s idle: they come and go by design.)"""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        out = {}
        for info in await js.streams_info():
            name = info.config.name
            assert name is not None
            consumers = frozenset(c.name for c in await js.consumers_info(name) if c.config.durable_name)
            out[name] = (consumers, info.state.messages)
        return out
    finally:
        await nc.close()


async def _readyz(url: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=2) as http:
        response = await http.get(f"{url}/readyz")
    return response.status_code, response.json()


async def _nats_metrics(up: Up, consumer: str) -> dict[str, tuple[float, float]]:
    """``service -> (nats_connected, nats_reconnects_total)`` from each service's /metrics."""
    out = {}
    async with httpx.AsyncClient(timeout=2) as http:
        for service, url in (("fanout", up.fanout), ("ingest", up.ingest), ("inference", consumer)):
            text = (await http.get(f"{url}/metrics")).text
            values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
            out[service] = (values[f"courtside_{service}_nats_connected"],
                            values[f"courtside_{service}_nats_reconnects_total"])
    return out


async def _consumer_url(up: Up) -> str:
    """The consumer's ops URL, from the port its heartbeat announced (fanout's /api/models)."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            (model,) = (await http.get(f"{up.fanout}/api/models")).json()["models"]
            ports = [i["http_port"] for i in model["instances"] if i["http_port"]]
            if ports:
                return f"http://127.0.0.1:{ports[0]}"
            assert time.monotonic() < deadline, f"no consumer heartbeat: {model}"
            await asyncio.sleep(0.1)


async def test_every_service_reconnects_after_a_nats_restart(tmp_path: Path) -> None:
    server = NatsProcess(tmp_path / "nats-work")
    server.start()
    clip = make_h264_clip(tmp_path / "clip.mp4", frames=90)
    archive = {"kind": "local", "path": str(tmp_path / "archive"), "segment_s": 2.0, "fragment_s": 0.5,
               "spool_dir": str(tmp_path / "spool"), "annotation_grace_s": 0.2}
    try:
        async with running_up(tmp_path, nats_url=server.url, cameras=2, clip=clip,
                              extra={"archive": archive}) as up:
            await up.wait_running()
            await up.annotation()  # fanout is up and annotations flow
            consumer = await _consumer_url(up)
            async with annotation_feed(up.fanout) as feed:
                deadline = time.monotonic() + 60
                while feed.cameras() != {"cam-1", "cam-2"}:
                    assert time.monotonic() < deadline, "annotations of both cameras never arrived"
                    await asyncio.sleep(0.1)
                while True:  # every stream in use: the archiver's consumer, a segment shipped
                    before = await _jetstream(server.url)
                    if set(before) == {"ANNOTATIONS", "CLIPS", "OBJ_segments"} and before["CLIPS"][0]:
                        break
                    assert time.monotonic() < deadline, f"streams not all in use: {before}"
                    await asyncio.sleep(0.2)

                archived_before = len(list((tmp_path / "archive").rglob("*.mp4")))
                server.kill()
                outage_deadline = time.monotonic() + 15
                while True:  # the outage shows in every service's readiness and in fanout's metrics
                    states = [await _readyz(url) for url in (up.fanout, up.ingest, consumer)]
                    metrics = await _nats_metrics(up, consumer)
                    if all(code == 503 and not body["dependencies"]["nats"]["ok"] for code, body in states) \
                            and all(connected == 0 for connected, _ in metrics.values()):
                        break
                    assert time.monotonic() < outage_deadline, f"the outage does not show: {states} {metrics}"
                    await asyncio.sleep(0.1)
                assert feed.connected(), "the WebSocket client was dropped during the outage"
                services = await up.services()
                assert all(s["state"] == "running" and s["restarts"] == 0 for s in services.values()), services
                await asyncio.sleep(1.0)

                back = server.start()
                back_wall_ns = time.time_ns()
                first = await feed.first_since(back, back_wall_ns, cameras=2, within_s=20)
            print(f"fresh annotations after the server's return: {first} (s)")
            assert set(first) == {"cam-1", "cam-2"}, f"no fresh annotations after the return: {first}"
            assert max(first.values()) < BACK_WITHIN_S, f"annotations back only after {first} s"

            for url in (up.fanout, up.ingest, consumer):
                code, body = await _readyz(url)
                assert code == 200 and body["dependencies"]["nats"]["state"] == "connected", body
            assert await _nats_metrics(up, consumer) == {s: (1, 1) for s in ("fanout", "ingest", "inference")}
            services = await up.services()
            assert all(s["state"] == "running" and s["restarts"] == 0 for s in services.values()), services

            after = await _jetstream(server.url)
            assert set(after) == set(before), "a stream disappeared or appeared"
            for name, (consumers, _) in before.items():
                assert after[name][0] == consumers, f"{name}: consumers {consumers} -> {after[name][0]}"
            assert after["ANNOTATIONS"][1] > before["ANNOTATIONS"][1], "annotations no longer stored"
            deadline = time.monotonic() + 30
            while len(list((tmp_path / "archive").rglob("*.mp4"))) <= archived_before:
                assert time.monotonic() < deadline, "no segment archived after the return"
                await asyncio.sleep(0.2)
            text = up.log_text()
            for who in ("[ingest]", "[fanout]", "[infer-bright]"):
                assert any(who in line and "reconnected to NATS" in line for line in text.splitlines()), who
        assert up.proc.returncode == 0
        assert "Traceback" not in up.log_text(), up.log_text()[-3000:]
    finally:
        server.stop()
