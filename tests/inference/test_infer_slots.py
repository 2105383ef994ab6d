"""Newest-frame-wins slots and batch assembly: plain data, no clock."""

from __future__ import annotations

from courtside_contracts.headers import FrameMeta

from inference.runtime.slots import LatestFrameSlots, PendingFrame

MS = 1_000_000


def frame(camera: str, seq: int, ts_ms: int, received_ms: int) -> PendingFrame:
    return PendingFrame(FrameMeta(camera, seq, ts_ms * MS, 64, 48), b"jpeg", received_ms * MS)


def test_newer_frame_replaces_older_and_is_counted() -> None:
    slots = LatestFrameSlots()
    assert slots.put(frame("a", 1, 1000, 1)) is None
    dropped = slots.put(frame("a", 2, 1033, 2))
    assert dropped is not None and dropped.meta.seq == 1
    assert len(slots) == 1 and slots.superseded == 1


def test_older_seq_does_not_replace_newer_pending() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("a", 5, 1000, 1))
    dropped = slots.put(frame("a", 4, 990, 2))
    assert dropped is not None and dropped.meta.seq == 4
    assert slots.out_of_order == 1
    taken = slots.take(4, 1000 * MS, 500 * MS)
    assert [f.meta.seq for f in taken.frames] == [5]


def test_publisher_restart_with_lower_seq_but_newer_ts_wins() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("a", 500, 1000, 1))
    slots.put(frame("a", 0, 2000, 2))
    assert slots.take(1, 2000 * MS, 500 * MS).frames[0].meta.seq == 0


def test_take_is_longest_waiting_first_and_bounded() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("c", 1, 1000, 30))
    slots.put(frame("a", 1, 1000, 10))
    slots.put(frame("b", 1, 1000, 20))
    taken = slots.take(2, 1000 * MS, 500 * MS)
    assert [f.meta.camera for f in taken.frames] == ["a", "b"]
    assert slots.cameras() == ["c"]


def test_stale_frames_never_run_and_do_not_use_batch_room() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("old", 1, 0, 1))
    slots.put(frame("new", 1, 900, 2))
    taken = slots.take(1, 1000 * MS, 500 * MS)
    assert [f.meta.camera for f in taken.frames] == ["new"]
    assert [f.meta.camera for f in taken.stale] == ["old"]
    assert slots.stale == 1 and len(slots) == 0


def test_memory_is_bounded_by_cameras() -> None:
    slots = LatestFrameSlots()
    for seq in range(10_000):
        slots.put(frame(f"cam{seq % 3}", seq, seq, seq))
    assert len(slots) == 3
    assert slots.superseded == 10_000 - 3


def test_discard_forgets_a_camera() -> None:
    slots = LatestFrameSlots()
    slots.put(frame("a", 1, 1, 1))
    assert slots.discard("a") is not None
    assert slots.oldest_received_ns() is None
