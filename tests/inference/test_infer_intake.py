"""Frame intake: client-buffer limits, the client's drops counted, the stale cut (plain data)."""

from __future__ import annotations

import pytest
from courtside_contracts.headers import FrameMeta

from inference.runtime.intake import (
    PENDING_MSGS_ALL_CAMERAS,
    PENDING_MSGS_PER_CAMERA,
    IntakeTally,
    NewestInBuffer,
    client_dropped,
    pending_limits,
)
from inference.runtime.slots import LatestFrameSlots, PendingFrame, is_stale

MS = 1_000_000
MIB = 1024 * 1024


def frame(camera: str, seq: int, ts_ms: int, received_ms: int = 0) -> PendingFrame:
    return PendingFrame(FrameMeta(camera, seq, ts_ms * MS, 64, 48), b"jpeg", received_ms * MS)


def test_buffer_is_counted_in_frames_and_bytes_never_bind_first() -> None:
    limits = pending_limits(False, 1 * MIB)
    assert limits.msgs == PENDING_MSGS_PER_CAMERA
    # nats-py drops once pending bytes reach the limit: that many maximal frames must still fit
    assert limits.bytes > PENDING_MSGS_PER_CAMERA * MIB
    assert pending_limits(True, 1 * MIB).msgs == PENDING_MSGS_ALL_CAMERAS


def test_limits_refuse_a_nonsense_payload_size() -> None:
    with pytest.raises(ValueError, match="max_payload"):
        pending_limits(False, 0)


def test_client_drops_are_what_was_delivered_but_never_handled_nor_pending() -> None:
    assert client_dropped(delivered=10, handled=7, pending=2) == 1
    assert client_dropped(delivered=5, handled=5, pending=0) == 0
    with pytest.raises(ValueError, match="negative"):
        client_dropped(-1, 0, 0)


def test_tally_sums_live_subscriptions_and_keeps_retired_counts() -> None:
    tally = IntakeTally()
    a = [10, 7, 2]
    b = [4, 1, 0]
    tally.watch(1, lambda: (a[0], a[1], a[2]))
    tally.watch(2, lambda: (b[0], b[1], b[2]))
    assert tally.dropped == 1 + 3 and tally.delivered == 14
    a[:] = [12, 9, 2]  # two more delivered and handled: no new drop
    assert tally.dropped == 4
    tally.retire(2)
    b[:] = [100, 0, 0]  # a retired subscription is no longer read
    assert tally.dropped == 4 and tally.delivered == 16
    tally.retire(2)  # retiring twice changes nothing
    assert tally.dropped == 4


def test_stale_means_strictly_older_than_max_age() -> None:
    assert not is_stale(1000 * MS, 1500 * MS, 500 * MS)
    assert is_stale(1000 * MS, 1501 * MS, 500 * MS)


def test_a_frame_stale_on_arrival_never_displaces_the_pending_one() -> None:
    slots = LatestFrameSlots()
    assert slots.offer(frame("a", 5, 1000), now_wall_ns=1100 * MS, max_age_ns=500 * MS) is None
    late = frame("a", 6, 400)  # delayed upstream: 700 ms old on arrival
    assert slots.offer(late, now_wall_ns=1100 * MS, max_age_ns=500 * MS) is late
    assert slots.stale == 1 and slots.superseded == 0
    assert [f.meta.seq for f in slots.take(4, 1100 * MS, 500 * MS).frames] == [5]


def test_take_drops_frames_that_will_be_stale_when_the_model_can_start() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("a", 1, 1000, received_ms=1))  # 300 ms old now
    slots.put(frame("b", 1, 1250, received_ms=2))  # 50 ms old now
    taken = slots.take(4, 1300 * MS, 400 * MS, start_in_ns=200 * MS)
    assert [f.meta.camera for f in taken.stale] == ["a"]  # 500 ms old at model start > 400
    assert [f.meta.camera for f in taken.frames] == ["b"]
    assert slots.stale == 1 and len(slots) == 0


def test_take_without_a_start_estimate_keeps_the_old_cut() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("a", 1, 1000))
    assert slots.take(4, 1300 * MS, 400 * MS, start_in_ns=-5 * MS).frames  # negative estimate = now


def test_newest_in_buffer_skips_frames_a_newer_one_follows() -> None:
    newest = NewestInBuffer(max_run=8)
    # a burst of 5 frames after a stall: the callback sees 4, 3, 2, 1, 0 frames behind
    assert [newest.superseded(p) for p in (4, 3, 2, 1, 0)] == [True, True, True, True, False]
    assert newest.superseded(0) is False  # steady state: every frame is handed over


def test_newest_in_buffer_never_starves_the_slot_under_persistent_overload() -> None:
    newest = NewestInBuffer(max_run=2)
    # the buffer never drains: still every third frame reaches the slot
    assert [newest.superseded(5) for _ in range(6)] == [True, True, False, True, True, False]
    with pytest.raises(ValueError, match="max_run"):
        NewestInBuffer(max_run=-1)
