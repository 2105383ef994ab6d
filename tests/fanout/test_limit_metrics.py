"""Refusals by the limits reach fanout's /metrics: WebSocket handshakes (429, per token and in
total) and HTTP requests (413 body, 414 URL), each counted under its reason."""

from __future__ import annotations

import dataclasses
from contextlib import AsyncExitStack

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus

from courtside.nats_server import EmbeddedNats
from fanout.limits import ConnectionLimits
from fanout.testing import QUICK_LIMITS, config_with, running_fanout

ADMIN = "token-admin-0123456789abcdef"
B = "token-b-0123456789abcdef"
C = "token-c-0123456789abcdef"


async def refused(http: httpx.AsyncClient, family: str, token: str | None = None) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    text = (await http.get("/metrics", headers=headers)).text
    return {s.labels["reason"]: s.value for f in text_string_to_metric_families(text) if f.name == family
            for s in f.samples if s.name.endswith("_total")}


async def test_refused_websockets_are_counted_by_reason(nats_server: EmbeddedNats) -> None:
    limits = dataclasses.replace(QUICK_LIMITS, connections=ConnectionLimits(total=2, per_token=1))
    config = config_with(auth={"enabled": True, "tokens": [{"token": ADMIN, "scopes": ["admin"]},
                                                           {"token": B}, {"token": C}]})
    async with running_fanout(config, nats_server.url, limits=limits) as fanout, AsyncExitStack() as stack, \
            httpx.AsyncClient(base_url=fanout.http_url) as http:
        assert await refused(http, "courtside_fanout_ws_refused", ADMIN) == {"total_limit": 0, "per_token_limit": 0}

        def connect(token: str) -> websockets.connect:
            return websockets.connect(fanout.ws_url, additional_headers={"Authorization": f"Bearer {token}"})

        await stack.enter_async_context(connect(B))
        for _ in range(2):
            with pytest.raises(InvalidStatus):
                await stack.enter_async_context(connect(B))  # B's one slot is taken
        await stack.enter_async_context(connect(C))
        with pytest.raises(InvalidStatus):
            await stack.enter_async_context(connect(ADMIN))  # two clients: the total is reached
        assert await refused(http, "courtside_fanout_ws_refused", ADMIN) == {"total_limit": 1, "per_token_limit": 2}


async def test_refused_http_requests_are_counted_by_reason(nats_server: EmbeddedNats) -> None:
    limits = dataclasses.replace(QUICK_LIMITS, max_body_bytes=1000, max_url_bytes=500)
    async with running_fanout(config_with(), nats_server.url, limits=limits) as fanout, \
            httpx.AsyncClient(base_url=fanout.http_url) as http:
        assert await refused(http, "courtside_fanout_http_refused") == {"body_too_large": 0, "url_too_long": 0}
        for _ in range(3):
            response = await http.post("/api/clips", content=b"x" * 5000, headers={"Content-Type": "application/json"})
            assert response.status_code == 413
        assert (await http.get("/api/cameras?x=" + "z" * 600)).status_code == 414
        assert await refused(http, "courtside_fanout_http_refused") == {"body_too_large": 3, "url_too_long": 1}
