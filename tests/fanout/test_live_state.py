"""Live camera/model state from heartbeats and traffic, on an explicit clock."""

from __future__ import annotations

from courtside_contracts.status import HEARTBEAT_STALE_S, Heartbeat, ServiceState

from fanout.live_state import LiveState


def beat(service: str, instance: str, cameras: dict | None = None, models: dict | None = None) -> Heartbeat:
    return Heartbeat(service, instance, ServiceState.READY, 0, cameras or {}, models or {})


def test_cameras_models_and_staleness() -> None:
    live = LiveState(configured_cameras=["court-1", "court-3"])
    live.observe(beat("ingest", "i1", cameras={"court-1": {"state": "live", "fps": 15.0},
                                               "court-2": {"state": "reconnecting"}}), now=100.0)
    live.observe(beat("inference", "yolo-1", cameras={"court-1": {}}, models={"yolo": {"weights": "untrained"}}),
                 now=100.0)
    live.observe(beat("fanout", "f1"), now=100.0)  # our own kind: ignored
    cams = {c["id"]: c for c in live.cameras(101.0)}
    assert sorted(cams) == ["court-1", "court-2", "court-3"]
    assert cams["court-1"]["live"] and cams["court-1"]["fps"] == 15.0 and cams["court-1"]["models"] == ["yolo"]
    assert cams["court-2"]["state"] == "reconnecting" and not cams["court-2"]["live"]
    assert cams["court-3"]["state"] == "unknown" and cams["court-3"]["configured"]
    (model,) = live.models(101.0)
    assert model["state"] == "ready" and model["weights"] == "untrained" and model["cameras"] == ["court-1"]

    later = 100.0 + HEARTBEAT_STALE_S + 1
    cams = {c["id"]: c for c in live.cameras(later)}
    assert cams["court-1"]["state"] == "offline" and not cams["court-1"]["live"] and cams["court-1"]["models"] == []
    assert live.models(later)[0]["state"] == "offline"


def test_traffic_counts_and_changes_are_reported_once() -> None:
    live = LiveState()
    live.saw_annotation("court-9", "pose", "trained", now=10.0)
    assert live.cameras(10.5)[0]["models"] == ["pose"]
    assert live.models(10.5)[0]["state"] == "ready"
    first = live.changes(10.5)
    assert ("model pose", "unknown", "ready") in first and live.changes(10.6) == []
    assert ("model pose", "ready", "unknown") in live.changes(10.0 + HEARTBEAT_STALE_S + 1)


def test_snapshot_filters_cameras() -> None:
    live = LiveState()
    live.saw_annotation("court-1", "yolo", "trained", now=1.0)
    live.saw_annotation("court-2", "pose", "trained", now=1.0)
    snapshot = live.snapshot(1.1)
    status = snapshot.status(frozenset({"court-1"}))
    assert list(status["cameras"]) == ["court-1"] and list(status["models"]) == ["yolo"]
    assert status["models"]["yolo"]["cameras"] == ["court-1"]
    assert set(snapshot.status(None)["models"]) == {"yolo", "pose"}
