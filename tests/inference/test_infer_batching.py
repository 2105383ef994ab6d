"""Micro-batch timing policy: plain numbers, no clock."""

from __future__ import annotations

from inference.runtime.batching import ActiveCameras, BatchPolicy, Ewma, decode_ahead_wait_ns

MS = 1_000_000


def test_nothing_pending_means_no_deadline() -> None:
    assert BatchPolicy(4, 5 * MS).wait_ns(0, None, 3, 100 * MS) is None


def test_full_batch_starts_now() -> None:
    assert BatchPolicy(2, 5 * MS).wait_ns(2, 100 * MS, 5, 100 * MS) == 0


def test_partial_batch_waits_until_oldest_has_waited_max_wait() -> None:
    policy = BatchPolicy(4, 5 * MS)
    assert policy.wait_ns(1, 100 * MS, 3, 102 * MS) == 3 * MS
    assert policy.wait_ns(1, 100 * MS, 3, 110 * MS) == 0


def test_every_active_camera_pending_is_full() -> None:
    policy = BatchPolicy(8, 50 * MS)
    assert policy.target(1) == 1
    assert policy.wait_ns(1, 100 * MS, 1, 100 * MS) == 0
    assert policy.target(0) == 1 and policy.target(20) == 8


def test_active_cameras_expire() -> None:
    active = ActiveCameras(window_ns=1000)
    active.seen("a", 0)
    active.seen("b", 500)
    assert active.count(900) == 2
    assert active.names(1200) == ["b"]


def test_decode_ahead_starts_now_when_the_model_is_idle() -> None:
    assert decode_ahead_wait_ns(100 * MS, None, 50 * MS, 4 * MS) == 0


def test_decode_ahead_is_timed_to_finish_as_the_model_frees_up() -> None:
    # model started at 100 ms, takes ~50 ms; decode takes ~4 ms; 1 ms margin -> start at 145 ms
    assert decode_ahead_wait_ns(110 * MS, 100 * MS, 50 * MS, 4 * MS) == 35 * MS
    assert decode_ahead_wait_ns(149 * MS, 100 * MS, 50 * MS, 4 * MS) == 0


def test_decode_ahead_without_estimates_waits_for_the_model() -> None:
    assert decode_ahead_wait_ns(110 * MS, 100 * MS, None, None) > 10**11


def test_ewma_tracks_recent_durations() -> None:
    ewma = Ewma(alpha=0.5)
    assert ewma.value is None
    ewma.add(10.0)
    ewma.add(20.0)
    assert ewma.value == 15.0
