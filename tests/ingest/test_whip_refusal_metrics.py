"""WHIP requests refused by auth reach ingest's /metrics: ``courtside_ingest_whip_refused_total``
by reason (401 unauthorized, 403 forbidden), from a real ingest."""

from __future__ import annotations

import httpx
from ingest_testkit import free_port, running_ingest
from prometheus_client.parser import text_string_to_metric_families
from test_whip import wait_http
from test_whip_auth import COURT1_PUBLISHER, cameras, post

from courtside.config import parse_config
from courtside.nats_server import EmbeddedNats


async def refused(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    return {s.labels["reason"]: s.value for f in text_string_to_metric_families(text)
            if f.name == "courtside_ingest_whip_refused" for s in f.samples if s.name.endswith("_total")}


async def test_refused_whip_requests_are_counted_by_reason(nats_server: EmbeddedNats) -> None:
    port = free_port()
    config = parse_config({
        "cameras": cameras(), "ingest": {"host": "127.0.0.1", "port": port, "instance": "ingest-refusals"},
        "auth": {"enabled": True, "tokens": [{"token": COURT1_PUBLISHER, "scopes": ["publish"],
                                              "cameras": ["court-1"]}]},
    }, "<test>", environ={})
    async with running_ingest(config, nats_server.url):
        base = f"http://127.0.0.1:{port}"
        await wait_http(base)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert await refused(http) == {"unauthorized": 0, "forbidden": 0}
            assert (await post(http, "court-1", None)).status_code == 401
            assert (await post(http, "court-1", "not-a-known-token")).status_code == 401
            assert (await post(http, "court-2", COURT1_PUBLISHER)).status_code == 403
            assert await refused(http) == {"unauthorized": 2, "forbidden": 1}
