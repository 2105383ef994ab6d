"""fanout's calibration routes over a real analytics service, a real fanout and a real nats-server: the
simulator camera's clicked points solved (not stored), saved (a revision in the JetStream bucket that
matches the true camera), read back; tokens checked per camera; every bad input a 4xx with a reason."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from courtside_contracts.status import Heartbeat
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from analytics import service as analytics_service
from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from courtside.config import ConfigError, parse_config
from courtside.court.calibration import COURT_POINTS, floor_error_cm
from courtside.nats_server import EmbeddedNats
from fanout.calibration_api import MAX_BODY_BYTES, MAX_IN_FLIGHT
from fanout.limits import Limits
from fanout.testing import free_port, running_fanout
from tests.analytics import sim_annotations as sa

CAM = "court-1"
WRITER, READER, OTHER, ADMIN = ("cal-writer-0123456789", "cal-reader-0123456789", "cal-other-0123456789",
                                "cal-admin-0123456789")
TOKENS = [{"token": WRITER, "scopes": ["write"], "cameras": [CAM]},
          {"token": READER, "scopes": ["read"], "cameras": [CAM]},
          {"token": OTHER, "scopes": ["write"], "cameras": ["court-2"]},
          {"token": ADMIN, "scopes": ["admin"]}]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def analytics_running(nats_url: str, nc: NATS) -> AsyncIterator[str]:
    """The analytics service (its calibration API on a free port); yields that API's base URL."""
    config = parse_config({
        "models": [{"name": "people", "task": "track"}, {"name": "ball", "backend": "ball"}],
        "analytics": {"player_model": "people", "ball_model": "ball", "port": 0, "instance": "an-cal",
                      "drift_interval_s": 0},
    }, "<test>", environ={})
    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    sub = await nc.subscribe("status.analytics.an-cal", cb=on_beat)
    stop = asyncio.Event()
    task = asyncio.create_task(analytics_service.run(config, nats_url, stop))
    try:
        async with asyncio.timeout(60):
            while not beats or beats[-1].http_port is None:  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        await sub.unsubscribe()
        yield f"http://127.0.0.1:{beats[-1].http_port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def calibration_setup(nats_url: str, nc: NATS, *, analytics_url: str | None = None,
                            web: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """analytics (unless ``analytics_url`` is given) and a fanout passing calibration to it, auth on
    (:data:`TOKENS`), camera :data:`CAM` configured; yields a client of that fanout."""
    async with _analytics_url(analytics_url, nats_url, nc) as url:
        config = parse_config({
            "fanout": {"port": 0, "analytics_url": url},
            "cameras": [{"id": CAM, "url": "demo://padel"}],
            "auth": {"enabled": True, "tokens": TOKENS},
        }, "<test>", environ={})
        limits = Limits(status_interval_s=0.5 if web else 1.0)
        async with running_fanout(config, nats_url, limits=limits) as fanout, \
                httpx.AsyncClient(base_url=fanout.http_url, timeout=30) as http:
            yield http


@asynccontextmanager
async def _analytics_url(url: str | None, nats_url: str, nc: NATS) -> AsyncIterator[str]:
    """``url``, else that of an analytics service started for the block."""
    if url is not None:
        yield url
        return
    async with analytics_running(nats_url, nc) as started:
        yield started


def sim_body() -> dict[str, Any]:
    """What the page sends for the simulator camera: every court point in view, 0.5 px of click noise."""
    clicks = sa.clicks(sa.camera(), CAM)
    return {"width": clicks.width, "height": clicks.height, "points": {n: list(p) for n, p in clicks.points.items()}}


def collinear_body() -> dict[str, Any]:
    """Four floor points along the left wall (x = -5 m): no homography."""
    cam = sa.camera()
    names = ["near service line left end", "net left foot", "far service line left end", "far left corner"]
    uv, _ = cam.project([COURT_POINTS[n] for n in names])
    return {"width": cam.width, "height": cam.height, "points": {n: [float(u), float(v)] for n, (u, v) in
                                                                  zip(names, uv, strict=True)}}


def raw(body: dict[str, Any], name: str, u: str) -> bytes:
    """``body`` as JSON text with the pixel u of point ``name`` written as ``u`` (e.g. NaN, which
    Python's json reads although it is not JSON)."""
    return json.dumps({**body, "points": {**body["points"], name: ["U-HERE", 5.0]}}).replace('"U-HERE"', u).encode()


async def test_solve_save_and_read_back(nats_server: EmbeddedNats, nc: NATS) -> None:
    body = sim_body()
    async with calibration_setup(nats_server.url, nc) as http:
        names = (await http.get("/api/calibration/points", headers=bearer(READER))).json()["points"]
        assert set(names) == set(COURT_POINTS)
        assert (await http.get(f"/api/calibration/{CAM}", headers=bearer(READER))).status_code == 404
        solved = await http.post(f"/api/calibration/{CAM}/solve", json=body, headers=bearer(WRITER))
        assert solved.status_code == 200, solved.text
        told = solved.json()
        assert told["revision"] is None and told["kind"] == "pose"
        assert told["reprojection_px"] < 2.0 and told["reprojection_max_px"] < 3.0
        assert told["floor_error_cm"] < 5.0 and told["floor_error_max_cm"] < 20.0  # 0.5 px of noise at the far end
        assert set(told["residuals"]) == set(body["points"]) and len(told["lines"]) >= 7
        assert (await http.get(f"/api/calibration/{CAM}", headers=bearer(READER))).status_code == 404  # not stored
        floor_only = {**body, "points": {n: p for n, p in body["points"].items() if COURT_POINTS[n][2] == 0.0}}
        flat = (await http.post(f"/api/calibration/{CAM}/solve", json=floor_only, headers=bearer(WRITER))).json()
        assert flat["kind"] == "floor" and flat["floor_error_cm"] < 5.0 and len(flat["lines"]) == 7, flat
        assert all(r["px"] is not None for r in flat["residuals"].values())
        saved = await http.post(f"/api/calibration/{CAM}", json=body, headers=bearer(WRITER))
        assert saved.status_code == 200, saved.text
        assert saved.json()["revision"] == 1
        again = (await http.post(f"/api/calibration/{CAM}", json=body, headers=bearer(WRITER))).json()
        assert again["revision"] == 2  # versioned: each save a new revision
        back = await http.get(f"/api/calibration/{CAM}", headers=bearer(READER))
        assert back.status_code == 200 and back.json()["revision"] == 2
        assert abs(back.json()["floor_error_cm"] - told["floor_error_cm"]) < 0.1
    found = await (await CalibrationStore.open(nc)).get(CAM)
    assert found is not None and found[1] == 2
    assert floor_error_cm(solve(*found).floor, sa.camera(), step_m=0.5) <= 5.0


async def test_tokens_cameras_and_bad_input_are_4xx(nats_server: EmbeddedNats, nc: NATS) -> None:
    body = sim_body()
    few = {**body, "points": dict(list(body["points"].items())[:3])}
    first = next(iter(body["points"]))
    cases: list[tuple[str, dict[str, str], Any, int, str]] = [
        # (path, headers, body: a dict is sent as JSON, bytes as they are; status, a word of the detail)
        (f"/api/calibration/{CAM}/solve", {}, body, 401, "token"),
        (f"/api/calibration/{CAM}/solve", bearer("wrong-token-0123456789"), body, 401, "not valid"),
        (f"/api/calibration/{CAM}/solve", bearer(READER), body, 403, "write"),
        (f"/api/calibration/{CAM}", bearer(READER), body, 403, "write"),
        (f"/api/calibration/{CAM}/solve", bearer(OTHER), body, 403, CAM),
        ("/api/calibration/court-9/solve", bearer(ADMIN), body, 404, "unknown"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), few, 422, "at least 4"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), collinear_body(), 422, "one line"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER),
         {**body, "points": {**body["points"], "half-way post": [1.0, 2.0]}}, 422, "unknown court point"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), raw(body, first, "NaN"), 422, "finite"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER),
         {**body, "points": {**body["points"], first: [10**400, 1]}}, 422, "finite"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), raw(body, first, "7" * 5000), 400, "JSON"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), b"[" * 5000 + b"]" * 5000, 400, "JSON"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), b"{nope", 400, "JSON"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), b"[1, 2]", 422, "object"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), {**body, "width": "640"}, 422, "width"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), {**body, "width": 10**9, "height": 10**9}, 422,
         "at most"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER),
         {**body, "points": {**body["points"], first: [1e12, 5.0]}}, 422, "outside"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), {**body, "points": {}}, 422, "points"),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), {**body, "points": {first: "here"}}, 422, first),
        (f"/api/calibration/{CAM}/solve", bearer(WRITER), {"pad": "x" * (MAX_BODY_BYTES + 1)}, 413, "larger"),
        (f"/api/calibration/{CAM}", bearer(WRITER), b" " * (2 * 1024 * 1024), 413, "larger"),
    ]
    async with calibration_setup(nats_server.url, nc) as http:
        for path, headers, sent, status, word in cases:
            if isinstance(sent, dict):
                r = await http.post(path, json=sent, headers=headers)
            else:
                r = await http.post(path, content=sent, headers={**headers, "Content-Type": "application/json"})
            assert r.status_code == status, (path, str(sent)[:80], r.status_code, r.text[:300])
            detail = r.json()["detail"]
            assert word in str(detail), (path, str(sent)[:80], detail)
        bad_name = await http.get("/api/calibration/no%20such%20cam", headers=bearer(ADMIN))
        assert bad_name.status_code == 422
        # Nothing of the above was stored.
        assert (await http.get(f"/api/calibration/{CAM}", headers=bearer(READER))).status_code == 404


async def test_analytics_unreachable_or_not_configured_is_503(nats_server: EmbeddedNats, nc: NATS) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with calibration_setup(nats_server.url, nc, analytics_url=nowhere) as http:
        r = await http.post(f"/api/calibration/{CAM}/solve", json=sim_body(), headers=bearer(WRITER))
        assert r.status_code == 503 and "cannot be reached" in r.json()["detail"], r.text
    config = parse_config({"fanout": {"port": 0}, "cameras": [{"id": CAM, "url": "demo://padel"}]},
                          "<test>", environ={})
    async with running_fanout(config, nats_server.url) as fanout, httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{fanout.http_url}/api/calibration/points")
        assert r.status_code == 503 and "fanout.analytics_url" in r.json()["detail"], r.text


@pytest.mark.parametrize("url", ["ftp://analytics:8003", "analytics:8003", "http://", "http://a:1/?x=1",
                                 "http://user:secret@analytics:8003"])
def test_analytics_url_must_be_plain_http(url: str) -> None:
    with pytest.raises(ConfigError, match="analytics_url"):
        parse_config({"fanout": {"analytics_url": url}}, "<test>", environ={})


def test_analytics_url_kept_without_trailing_slash() -> None:
    config = parse_config({"fanout": {"analytics_url": "http://analytics:8003/"}}, "<test>", environ={})
    assert config.fanout.analytics_url == "http://analytics:8003"


async def test_requests_beyond_the_in_flight_bound_are_429(nats_server: EmbeddedNats, nc: NATS) -> None:
    """An analytics service that accepts and never answers: the first MAX_IN_FLIGHT requests wait on it,
    the next is refused at once; when it hangs up, the waiting ones are told it cannot be reached; one
    that it holds past UPSTREAM_TIMEOUT_S is told it did not answer."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with calibration_setup(nats_server.url, nc, analytics_url=f"http://127.0.0.1:{port}") as http:
            body = sim_body()
            waiting = [asyncio.create_task(http.post(f"/api/calibration/{CAM}/solve", json=body,
                                                     headers=bearer(WRITER))) for _ in range(MAX_IN_FLIGHT)]
            async with asyncio.timeout(5):
                while len(held) < MAX_IN_FLIGHT:  # noqa: ASYNC110 - connections arrive from fanout's threads
                    await asyncio.sleep(0.02)
            over = await http.post(f"/api/calibration/{CAM}/solve", json=body, headers=bearer(WRITER))
            assert over.status_code == 429 and "in progress" in over.json()["detail"], over.text
            for writer in held:
                writer.close()
            answers = await asyncio.gather(*waiting)
            assert [a.status_code for a in answers] == [503] * MAX_IN_FLIGHT, [a.text for a in answers]
            # The bound is free again; this one waits on the silent server until UPSTREAM_TIMEOUT_S.
            after = await http.post(f"/api/calibration/{CAM}/solve", json=body, headers=bearer(WRITER))
            assert after.status_code == 504 and "did not answer within" in after.json()["detail"], after.text
    finally:
        server.close()
        await server.wait_closed()
