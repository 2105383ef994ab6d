"""CameraOwnership: which cameras a stateful replica serves and which changed hands (plain data, no servers)."""

from __future__ import annotations

from courtside_contracts.status import Heartbeat, ServiceState

from inference.runtime.camera_ownership import CameraOwnership
from inference.runtime.ownership import owner

S = 1_000_000_000
CAMERAS = [f"court-{i}" for i in range(12)]


def beat(instance: str, state: ServiceState = ServiceState.READY, model: str = "trk") -> Heartbeat:
    return Heartbeat(service="inference", instance=instance, state=state, ts=0, models={model: {"loaded": True}})


def test_alone_a_replica_owns_every_camera_and_queues_no_reset() -> None:
    own = CameraOwnership("trk", "me", stale_ns=int(2.5 * S))
    assert all(own.owns(c, 0) for c in CAMERAS)
    assert own.take_resets() == []
    assert own.replicas(0) == ["me"]


def test_a_peer_takes_its_cameras_and_both_directions_queue_resets() -> None:
    own = CameraOwnership("trk", "me", stale_ns=int(2.5 * S))
    for c in CAMERAS:
        own.owns(c, 0)
    own.heard(beat("peer"), 1 * S)
    theirs = [c for c in CAMERAS if owner(c, ["me", "peer"]) == "peer"]
    assert theirs, "with 12 cameras the peer must win some"
    assert [c for c in CAMERAS if not own.owns(c, 1 * S)] == theirs
    assert own.take_resets() == sorted(theirs)
    assert own.take_resets() == [], "taking empties the queue"
    own.heard(beat("peer", ServiceState.STOPPING), 2 * S)  # a clean stop hands its cameras back at once
    assert all(own.owns(c, 2 * S) for c in CAMERAS)
    assert own.take_resets() == sorted(theirs)


def test_only_replicas_of_the_same_model_count_and_silent_ones_expire() -> None:
    own = CameraOwnership("trk", "me", stale_ns=int(2.5 * S))
    own.heard(beat("other-model", model="yolo"), 0)
    own.heard(beat("me"), 0)  # its own heartbeat, echoed by NATS
    assert own.replicas(0) == ["me"]
    own.heard(beat("peer"), 0)
    assert own.replicas(2 * S) == ["me", "peer"]
    assert own.replicas(3 * S) == ["me"]


def test_asking_what_is_owned_queues_nothing_and_malformed_beats_are_ignored() -> None:
    own = CameraOwnership("trk", "me", stale_ns=int(2.5 * S))
    for c in CAMERAS:
        own.owns(c, 0)
    assert own.heard_json(beat("peer").to_json(), 0) is True
    assert own.heard_json(b"{not json", 0) is False
    assert own.owned(CAMERAS, 0) == [c for c in CAMERAS if owner(c, ["me", "peer"]) == "me"]
    assert own.take_resets() == []
