"""Rendezvous ownership of cameras: plain data, no clock."""

from __future__ import annotations

from inference.runtime.ownership import Membership, owner

S = 1_000_000_000
CAMERAS = [f"court-{i}" for i in range(40)]


def test_owner_is_deterministic_and_order_free() -> None:
    assert owner("court-1", ["a", "b", "c"]) == owner("court-1", ["c", "a", "b"])
    assert owner("court-1", []) is None


def test_cameras_spread_and_only_the_dead_replicas_move() -> None:
    before = {c: owner(c, ["a", "b", "c"]) for c in CAMERAS}
    assert set(before.values()) == {"a", "b", "c"}
    after = {c: owner(c, ["a", "c"]) for c in CAMERAS}
    for cam in CAMERAS:
        if before[cam] != "b":
            assert after[cam] == before[cam]
        else:
            assert after[cam] in ("a", "c")


def test_membership_expires_silent_peers_and_drops_stopping_ones() -> None:
    m = Membership("me", stale_ns=int(2.5 * S))
    m.heard("peer", 0)
    m.heard("gone", 0)
    assert m.live(2 * S) == ["gone", "me", "peer"]
    m.heard("peer", 2 * S)
    m.heard("gone", 2 * S, stopping=True)
    assert m.live(3 * S) == ["me", "peer"]
    assert m.live(5 * S) == ["me"]
    assert all(m.owns(c, 5 * S) for c in CAMERAS)
