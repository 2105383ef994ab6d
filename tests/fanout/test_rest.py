"""REST surface: live camera/model state from heartbeats, health, metrics, docs, pages."""

from __future__ import annotations

import httpx
from courtside_contracts.status import Heartbeat, ServiceState
from courtside_contracts.subjects import status_subject
from nats.aio.client import Client as NATS

from fanout.testing import RunningFanout, make_annotation, publish_annotation, wait_until


async def test_cameras_and_models_follow_heartbeats(fanout: RunningFanout, nc: NATS) -> None:
    ingest = Heartbeat("ingest", "ingest-1", ServiceState.READY, 1,
                       cameras={"court-1": {"state": "live", "fps": 15.0}})
    infer = Heartbeat("inference", "yolo-1", ServiceState.READY, 1, cameras={"court-1": {}},
                      models={"yolo": {"loaded": True, "weights": "trained", "device": "cpu"}}, http_port=9107)
    await nc.publish(status_subject("ingest", "ingest-1"), ingest.to_json())
    await nc.publish(status_subject("inference", "yolo-1"), infer.to_json())
    await nc.publish("status.bad.x", b"{not json")
    await publish_annotation(nc, make_annotation("court-2", "pose", 1))
    async with httpx.AsyncClient(base_url=fanout.http_url) as http:
        async def both_known() -> bool:
            return len((await http.get("/api/cameras")).json()["cameras"]) == 2

        await wait_until(both_known)
        cams = {c["id"]: c for c in (await http.get("/api/cameras")).json()["cameras"]}
        assert cams["court-1"]["live"] and cams["court-1"]["fps"] == 15.0 and cams["court-1"]["models"] == ["yolo"]
        assert cams["court-2"]["state"] == "unknown" and cams["court-2"]["models"] == ["pose"]
        assert (await http.get("/api/cameras/court-1")).json()["source"] == "ingest.ingest-1"
        assert (await http.get("/api/cameras/nope")).status_code == 404
        assert (await http.get("/api/cameras/bad.name")).status_code == 422
        models = {m["name"]: m for m in (await http.get("/api/models")).json()["models"]}
        assert models["yolo"]["state"] == "ready" and models["yolo"]["cameras"] == ["court-1"]
        assert models["yolo"]["instances"][0]["instance"] == "yolo-1"
        assert models["yolo"]["instances"][0]["http_port"] == 9107
        assert models["pose"]["cameras"] == ["court-2"]
        metrics = (await http.get("/metrics")).text
        assert 'courtside_fanout_nats_messages_total{kind="heartbeat",result="malformed"} 1.0' in metrics


async def test_ops_docs_and_pages(fanout: RunningFanout) -> None:
    async with httpx.AsyncClient(base_url=fanout.http_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = (await http.get("/readyz")).json()
        assert ready["ready"] and ready["state"] == "ready" and ready["service"] == "fanout"
        assert ready["dependencies"] == {"nats": {"state": "connected", "ok": True}}
        assert "courtside_fanout_clients 0.0" in (await http.get("/metrics")).text
        spec = (await http.get("/openapi.json")).json()
        assert {"/api/cameras", "/api/models", "/readyz"} <= set(spec["paths"])
        assert (await http.get("/docs")).status_code == 200
        for path, needle in (("/", "overlay.js"), ("/grid", "grid.js"),
                             ("/static/sdk/courtside.js", "class CourtsideClient"),
                             ("/static/sdk/courtside.d.ts", "interface Annotation")):
            response = await http.get(path)
            assert response.status_code == 200 and needle in response.text, path
