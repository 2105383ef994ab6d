"""The kit with real servers: uvicorn on a loopback port, heartbeats through a real nats-server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from courtside_contracts.errors import ContractError
from courtside_contracts.status import Heartbeat, ServiceState
from fastapi import FastAPI
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from prometheus_client import Counter

from courtside.kit.heartbeat import HeartbeatPublisher
from courtside.kit.http_server import HttpServer, HttpStartError
from courtside.kit.lifecycle import Lifecycle
from courtside.kit.ops_routes import ops_app
from courtside.kit.readiness import Dependency
from courtside.nats_server import EmbeddedNats
from courtside.natsio import nats_dependency


async def test_ops_server_on_an_ephemeral_port_follows_the_lifecycle() -> None:
    nats_up = [True]
    life = Lifecycle("svc", "svc-1", detail=lambda: {"extra": 1})
    life.depend(lambda: Dependency("nats", "connected" if nats_up[0] else "disconnected", nats_up[0]))
    Counter("courtside_svc_things", "Things", registry=life.registry).inc(3)
    async with HttpServer(ops_app(life, title="svc"), "127.0.0.1", 0, name="svc", setting="svc.port") as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        # asyncio sets TCP_NODELAY on accepted connections only when the listener says IPPROTO_TCP
        # (a small message after another would otherwise wait for an ACK: Nagle)
        assert server._sock.proto == socket.IPPROTO_TCP
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            starting = await http.get("/readyz")
            assert starting.status_code == 503 and starting.json()["state"] == "starting"
            life.ready()
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json() == {
                "ready": True, "state": "ready", "service": "svc", "instance": "svc-1",
                "dependencies": {"nats": {"state": "connected", "ok": True}}, "extra": 1}
            nats_up[0] = False
            down = await http.get("/readyz")
            assert down.status_code == 503 and down.json()["state"] == "degraded"
            metrics = await http.get("/metrics")
            assert metrics.headers["content-type"].startswith("text/plain")
            assert "courtside_svc_things_total 3.0" in metrics.text
            life.stopping()
            assert (await http.get("/readyz")).json()["state"] == "stopping"
    with socket.socket() as probe:  # the port is released on stop
        probe.bind(("127.0.0.1", server.port))


async def test_a_port_in_use_names_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HttpStartError, match=r"svc HTTP cannot listen on 127.0.0.1:\d+.*set svc.port"):
            HttpServer(FastAPI(), "127.0.0.1", port, name="svc", setting="svc.port")


async def test_an_app_that_fails_to_start_is_an_error_not_a_hang() -> None:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    server = HttpServer(FastAPI(lifespan=lifespan), "127.0.0.1", 0, name="svc", setting="svc.port",
                        lifespan="on", log_level="critical")
    with pytest.raises(HttpStartError, match="did not start"):
        await asyncio.wait_for(server.start(), 10)


async def test_lifecycle_starts_in_order_and_stops_in_reverse() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def part(name: str) -> AsyncIterator[str]:
        events.append(f"start {name}")
        yield name
        events.append(f"stop {name} ({life.phase.value})")

    stop = asyncio.Event()
    async with Lifecycle("svc", "svc-1") as life:
        assert await life.enter(part("a")) == "a"
        await life.enter(part("b"))
        stop.set()
        await life.serve_until(stop)
        events.append(life.phase.value)
    assert events == ["start a", "start b", "stopping", "stop b (stopping)", "stop a (stopping)"]


async def test_heartbeats_on_time_on_change_and_at_stop(nats_server: EmbeddedNats, nc: NATS) -> None:
    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe("status.svc.svc-1", cb=on_beat)
    await nc.flush()
    state = [ServiceState.READY]
    publisher = HeartbeatPublisher(
        nc, lambda: Heartbeat("svc", "svc-1", state[0], len(beats), http_port=8123), interval_s=30,
        min_gap_s=0.05)
    async with asyncio.timeout(10):
        async with publisher:
            while not beats:  # noqa: ASYNC110 - the beat arrives through the server
                await asyncio.sleep(0.01)
            state[0] = ServiceState.DEGRADED
            for _ in range(5):  # a burst of changes: coalesced, sent long before the 30 s interval
                publisher.beat_soon()
            while len(beats) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            assert len(beats) == 2 and beats[1].state == ServiceState.DEGRADED
            state[0] = ServiceState.STOPPING
        while len(beats) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert beats[-1].state == ServiceState.STOPPING and beats[-1].http_port == 8123
    assert nats_dependency(nc).body() == {"state": "connected", "ok": True}
    await nc.close()
    assert nats_dependency(nc).body() == {"state": "closed", "ok": False}


def test_heartbeat_http_port_is_optional_and_checked() -> None:
    plain = Heartbeat("svc", "svc-1", ServiceState.READY, 1)
    assert b"http_port" not in plain.to_json() and Heartbeat.from_json(plain.to_json()).http_port is None
    served = Heartbeat("svc", "svc-1", ServiceState.READY, 1, http_port=9100)
    assert Heartbeat.from_json(served.to_json()).http_port == 9100
    for bad in ('"9100"', "0", "70000", "true"):
        with pytest.raises(ContractError, match="http_port"):
            Heartbeat.from_json(f'{{"service":"s","instance":"i","state":"ready","ts":1,"http_port":{bad}}}')
