"""Auth on: bearer tokens (header or subprotocol), scopes, per-camera grants, CORS/origin; never logged."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from nats.aio.client import Client as NATS
from websockets.exceptions import InvalidStatus

from fanout.testing import (
    QUICK_LIMITS,
    RunningFanout,
    config_with,
    make_annotation,
    publish_annotation,
    running_fanout,
    wait_until,
)

COURT1 = "court1-viewer-token-0123456789"
ADMIN = "admin-token-abcdefghijklmnop"


@pytest.fixture
async def secured(nats_server: Any, caplog: pytest.LogCaptureFixture) -> AsyncIterator[RunningFanout]:
    caplog.set_level(logging.DEBUG)
    config = config_with(
        auth={"enabled": True, "tokens": [{"token": COURT1, "scope": "viewer", "cameras": ["court-1"]},
                                          {"token": ADMIN, "scope": "admin"}]},
        fanout={"cors_origins": ["http://app.example"]})
    async with running_fanout(config, nats_server.url, limits=QUICK_LIMITS) as running:
        yield running
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert COURT1 not in logged and ADMIN not in logged


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_rest_needs_a_token_and_respects_the_camera_grant(secured: RunningFanout, nc: NATS) -> None:
    for cam in ("court-1", "court-2"):
        await publish_annotation(nc, make_annotation(cam, "yolo", 1))
    async with httpx.AsyncClient(base_url=secured.http_url) as http:
        assert (await http.get("/api/cameras")).status_code == 401
        assert (await http.get("/api/cameras", headers=bearer("wrong"))).status_code == 401
        async def both_known() -> bool:
            return len((await http.get("/api/cameras", headers=bearer(ADMIN))).json()["cameras"]) == 2

        await wait_until(both_known)
        seen = (await http.get("/api/cameras", headers=bearer(COURT1))).json()["cameras"]
        assert [c["id"] for c in seen] == ["court-1"]
        assert (await http.get("/api/cameras/court-2", headers=bearer(COURT1))).status_code == 403
        assert (await http.get("/api/cameras/court-1", headers=bearer(COURT1))).status_code == 200
        assert (await http.get("/api/models", headers=bearer(COURT1))).json()["models"][0]["cameras"] == ["court-1"]
        assert (await http.get("/metrics", headers=bearer(COURT1))).status_code == 403
        assert (await http.get("/metrics", headers=bearer(ADMIN))).status_code == 200
        assert (await http.get("/healthz")).status_code == 200  # probes stay open
        cors = await http.get("/api/cameras", headers={**bearer(ADMIN), "Origin": "http://app.example"})
        assert cors.headers["access-control-allow-origin"] == "http://app.example"


async def test_ws_refuses_missing_wrong_tokens_and_foreign_origins(secured: RunningFanout) -> None:
    for kwargs in ({}, {"additional_headers": bearer("nope")}, {"subprotocols": ["courtside.v1", "bearer.nope"]}):
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(secured.ws_url, **kwargs):
                pass
        assert info.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(secured.ws_url, additional_headers=bearer(ADMIN), origin="http://evil.example"):
            pass
    assert info.value.response.status_code == 403
    async with websockets.connect(secured.ws_url, additional_headers=bearer(ADMIN), origin="http://app.example"):
        pass


async def test_ws_court1_token_sees_only_court1(secured: RunningFanout, nc: NATS) -> None:
    async with websockets.connect(secured.ws_url, subprotocols=["courtside.v1", f"bearer.{COURT1}"]) as ws:
        assert ws.subprotocol == "courtside.v1"  # the token is never echoed
        await ws.send(json.dumps({"op": "subscribe", "cameras": ["court-2"]}))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "error" and reply["code"] == "forbidden"
        await ws.send(json.dumps({"op": "subscribe"}))
        assert json.loads(await ws.recv())["cameras"] == ["court-1"]
        await publish_annotation(nc, make_annotation("court-2", "yolo", 1))
        await publish_annotation(nc, make_annotation("court-1", "yolo", 2))
        async with asyncio.timeout(5):
            while (msg := json.loads(await ws.recv()))["type"] != "annotation":
                assert msg["type"] == "status" and set(msg["cameras"]) <= {"court-1"}
        assert msg["annotation"]["camera"] == "court-1"
    async with websockets.connect(secured.ws_url, additional_headers=bearer(ADMIN)) as ws:
        assert ws.subprotocol is None
        await ws.send(json.dumps({"op": "subscribe", "cameras": ["court-2"]}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
