"""The analytics service's calibration REST API, the real service over a real nats-server: clicked points
posted, solved, stored as a revision, described back (errors in px and cm, overlay lines in pixels)."""

from __future__ import annotations

import asyncio

import httpx
from courtside_contracts.status import Heartbeat
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from analytics import service as analytics_service
from analytics.calibrated import solve
from analytics.calibration_store import CalibrationStore
from courtside.config import parse_config
from courtside.court.calibration import COURT_POINTS, floor_error_cm
from courtside.nats_server import EmbeddedNats
from tests.analytics import sim_annotations as sa

CAM = "court-1"


async def test_post_solve_store_describe(nats_server: EmbeddedNats, nc: NATS) -> None:
    config = parse_config({
        "models": [{"name": "people", "task": "track"}, {"name": "ball", "backend": "ball"}],
        "analytics": {"player_model": "people", "ball_model": "ball", "port": 0, "instance": "an-api",
                      "drift_interval_s": 0},
    }, "<test>", environ={})
    beats: list[Heartbeat] = []

    async def on_beat(msg: Msg) -> None:
        beats.append(Heartbeat.from_json(msg.data))

    await nc.subscribe("status.analytics.*", cb=on_beat)
    stop = asyncio.Event()
    task = asyncio.create_task(analytics_service.run(config, nats_server.url, stop))
    try:
        async with asyncio.timeout(60):
            while not beats:  # noqa: ASYNC110 - heartbeats arrive through NATS
                await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{beats[-1].http_port}"
        cam = sa.camera()
        clicks = sa.clicks(cam, CAM)
        body = {"width": clicks.width, "height": clicks.height, "points": {n: list(p) for n, p in clicks.points.items()}}
        async with httpx.AsyncClient(timeout=30) as http:
            names = (await http.get(f"{base}/api/calibration/points")).json()["points"]
            assert set(names) == set(COURT_POINTS)
            assert (await http.get(f"{base}/api/calibration/{CAM}")).status_code == 404
            r = await http.post(f"{base}/api/calibration/{CAM}", json=body)
            assert r.status_code == 200, r.text
            told = r.json()
            assert told["revision"] == 1 and told["kind"] == "pose"
            assert told["reprojection_px"] < 2.0 and told["floor_error_cm"] < 5.0
            inside = [p for line in told["lines"] for p in line if 0 <= p[0] < 640 and 0 <= p[1] < 360]
            assert len(told["lines"]) >= 7 and len(inside) > 50
            few = {**body, "points": dict(list(body["points"].items())[:3])}
            r = await http.post(f"{base}/api/calibration/{CAM}", json=few)
            assert r.status_code == 422 and "at least 4" in r.json()["detail"]
            assert (await http.post(f"{base}/api/calibration/{CAM}", content=b"{nope")).status_code == 400
            again = (await http.get(f"{base}/api/calibration/{CAM}")).json()
            assert again["revision"] == 1 and len(again["lines"]) == len(told["lines"])  # the stored points are rounded
            assert abs(again["floor_error_cm"] - told["floor_error_cm"]) < 0.1
        found = await (await CalibrationStore.open(nc)).get(CAM)
        assert found is not None and found[1] == 1
        assert floor_error_cm(solve(*found).floor, cam) <= 5.0
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
