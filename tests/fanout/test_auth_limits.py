"""Limits: WebSocket clients per token and in total (429), HTTP body and URL sizes (413, 414);
refused with the reason, counted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from courtside.nats_server import EmbeddedNats
from fanout.limits import ConnectionLimiter, ConnectionLimits
from fanout.testing import QUICK_LIMITS, config_with, running_fanout

A = "token-a-0123456789abcdef"
B = "token-b-0123456789abcdef"


def test_limiter_counts_per_key_and_in_total() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=3, per_token=2))
    assert limiter.acquire("a") is None and limiter.acquire("a") is None
    assert "this token (2 at most)" in (limiter.acquire("a") or "")
    assert limiter.acquire(None) is None  # no key: only the total applies
    assert "too many clients (3 at most)" in (limiter.acquire("b") or "")
    assert (limiter.refused_per_token, limiter.refused_total, limiter.active) == (1, 1, 3)
    limiter.release("a")
    assert limiter.acquire("b") is None and limiter.active == 3


async def test_ws_refused_with_429_over_the_token_and_total_caps(nats_server: EmbeddedNats) -> None:
    limits = dataclasses.replace(QUICK_LIMITS, connections=ConnectionLimits(total=3, per_token=2))
    config = config_with(auth={"enabled": True, "tokens": [{"token": A}, {"token": B}]})
    async with running_fanout(config, nats_server.url, limits=limits) as fanout, AsyncExitStack() as stack:
        def connect(token: str) -> websockets.connect:
            return websockets.connect(fanout.ws_url, additional_headers={"Authorization": f"Bearer {token}"})

        first = await stack.enter_async_context(connect(A))
        await stack.enter_async_context(connect(A))
        with pytest.raises(InvalidStatus) as info:
            await stack.enter_async_context(connect(A))
        assert info.value.response.status_code == 429 and b"this token" in info.value.response.body
        assert info.value.response.headers["Retry-After"] == "5"
        await stack.enter_async_context(connect(B))
        with pytest.raises(InvalidStatus) as info:
            await stack.enter_async_context(connect(B))
        assert info.value.response.status_code == 429 and b"too many clients (3" in info.value.response.body
        await first.close()
        await first.wait_closed()
        for _ in range(50):  # the server releases the slot when its session ends
            try:
                await stack.enter_async_context(connect(B))
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the slot of a closed client was never released")


async def test_http_body_and_url_limits_refuse_with_413_and_414(nats_server: EmbeddedNats) -> None:
    limits = dataclasses.replace(QUICK_LIMITS, max_body_bytes=1000, max_url_bytes=500)
    async with running_fanout(config_with(), nats_server.url, limits=limits) as fanout, \
            httpx.AsyncClient(base_url=fanout.http_url) as http:
        declared = await http.post("/api/clips", content=b"x" * 5000, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413 and "1000 bytes" in declared.json()["detail"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams in
            for _ in range(10):
                yield b'{"pad": "' + b"y" * 300 + b'"}'

        streamed = await http.post("/api/clips", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        assert (await http.get("/api/cameras?x=" + "z" * 600)).status_code == 414
        assert (await http.get("/api/cameras")).status_code == 200
        small = await http.post("/api/clips", json={"camera": "court-1"})
        assert small.status_code < 500 and small.status_code != 413
