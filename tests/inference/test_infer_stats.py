"""Latency percentiles, histograms and busy share: plain numbers, a fake clock. (Rates: the kit's
RateMeter, tests/courtside/test_kit_pure.py.)"""

from __future__ import annotations

import math

import pytest

from inference.runtime.stats import LatencyWindow, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_window_keeps_only_recent_samples() -> None:
    window = LatencyWindow(size=10)
    for v in range(100):
        window.add(float(v))
    assert len(window) == 10
    assert window.percentiles(50, 99) == [94.0, 99.0]


def test_histogram_counts_every_sample_in_seconds() -> None:
    window = LatencyWindow(size=2, buckets_s=(0.01, 0.1))
    for ms in (5.0, 10.0, 50.0, 500.0):
        window.add(ms)
    assert window.buckets() == [("0.01", 2.0), ("0.1", 3.0), ("+Inf", 4.0)]  # le is inclusive
    assert window.count == 4 and window.sum_ms == 565.0
    assert len(window) == 2  # percentiles see only the last samples; the histogram every one


def test_busy_ratio_is_the_share_of_recent_time_covered() -> None:
    now = [100.0]
    window = LatencyWindow(clock=lambda: now[0])
    assert window.busy_ratio() == 0.0
    now[0] = 102.0
    window.add(500.0)  # 0.5 s of model time in the first 2 s
    assert window.busy_ratio() == pytest.approx(0.25)
    now[0] = 110.0
    for _ in range(10):
        window.add(400.0)
    assert window.busy_ratio(window_s=10.0) == pytest.approx((0.5 + 4.0) / 10)
    now[0] = 125.0
    assert window.busy_ratio(window_s=10.0) == 0.0  # all of it older than the window
